import { mount } from 'svelte';
import EmbedApp from './EmbedApp.svelte';
import { classifier } from './lib/classifier.svelte';
import { backendFromUrl, modelFromUrl } from './lib/url-options';
import { startBridge } from './lib/embed/bridge';
import { i18n } from './lib/i18n.svelte';
import './app.css';

document.documentElement.lang = i18n.locale === 'zh' ? 'zh-CN' : 'en';
void classifier.load(backendFromUrl(location.search), modelFromUrl(location.search));
startBridge(window, __GLIMPSE_EMBED_ORIGINS__, classifier);
mount(EmbedApp, { target: document.getElementById('app')! });
