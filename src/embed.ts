import { mount } from 'svelte';
import EmbedApp from './EmbedApp.svelte';
import { BUILTIN_MODEL } from './core/classifier-types';
import { classifier } from './lib/classifier.svelte';
import { backendFromUrl, minConfidenceFromUrl, modelFromUrl } from './lib/url-options';
import { startBridge } from './lib/embed/bridge';
import { i18n } from './lib/i18n.svelte';
import './app.css';

document.documentElement.lang = i18n.locale === 'zh' ? 'zh-CN' : 'en';
// The embed runs the site's model or a shipped one it names, never the model active in this
// origin's storage: that is the user's own, and a page embedding Glimpse must not learn of it.
void classifier.load(backendFromUrl(location.search), modelFromUrl(location.search) ?? BUILTIN_MODEL);
startBridge(window, __GLIMPSE_EMBED_ORIGINS__, classifier, minConfidenceFromUrl(location.search));
mount(EmbedApp, { target: document.getElementById('app')! });
