import { mount } from 'svelte';
import App from './App.svelte';
import { classifier } from './lib/classifier.svelte';
import { diagnostics } from './lib/diagnostics.svelte';
import { backendFromUrl } from './lib/url-options';
import { i18n } from './lib/i18n.svelte';
import { pwa } from './lib/pwa.svelte';

diagnostics.observeLongTasks();
document.documentElement.lang = i18n.locale === 'zh' ? 'zh-CN' : 'en';
void classifier.load(backendFromUrl(location.search));
mount(App, { target: document.getElementById('app')! });
pwa.watchNetwork();
// The service worker precaches ~7 MB; registering it once the backend is chosen and the images
// chosen meanwhile are answered keeps that work from competing with the first download,
// warm-up, answers and the trial of a faster engine (it then mostly revalidates).
void classifier
  .loaded()
  .then(() => classifier.chosen())
  .catch(() => undefined)
  .then(() => classifier.idle())
  .finally(() => pwa.start());
