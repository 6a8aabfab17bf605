import { MODEL_URL } from './lib/worker-start';
import { prefetchModel } from './lib/model-prefetch';
import './app.css';

// This chunk starts the worker and the model's download; the app's code follows in parallel.
performance.mark('glimpse:start');
prefetchModel(MODEL_URL);
void import('./app-start');
