import { errorNameOf } from '../core/errors';
import { LIMITS } from '../core/image-header';
import { MESSAGES, type Locale, type Messages } from './messages';
import { localStore } from './local-storage';
import { fillTemplate } from './template';

const STORAGE_KEY = 'glimpse-locale';

function initialLocale(): Locale {
  const saved = localStore()?.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return (globalThis.navigator?.languages ?? []).some((l) => l.toLowerCase().startsWith('zh')) ? 'zh' : 'en';
}

class I18n {
  locale = $state<Locale>(initialLocale());

  get m(): Messages {
    return MESSAGES[this.locale];
  }

  set(locale: Locale): void {
    this.locale = locale;
    localStore()?.setItem(STORAGE_KEY, locale);
    document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en';
  }

  /** Fills `{name}` placeholders, and `{n|one|other}` by the number's plural form. */
  format(template: string, values: Record<string, string | number>): string {
    return fillTemplate(template, values, this.locale === 'zh' ? 'zh-CN' : 'en');
  }

  /**
   * The one place an error becomes words for the user; limits are quoted from LIMITS itself.
   * An unknown error is told as a failure of what the user was doing: classifying, or reading a model.
   */
  error(error: unknown, doing: 'classifying' | 'reading a model' = 'classifying'): string {
    const name = errorNameOf(error);
    if (name === 'UnknownError' && doing === 'reading a model') return this.m.models.failed;
    return this.format(this.m.errors[name], {
      megapixels: LIMITS.maxPixels / 1e6,
      side: LIMITS.maxSide.toLocaleString(this.locale === 'zh' ? 'zh-CN' : 'en'),
      megabytes: LIMITS.maxBytes / 1024 / 1024,
    });
  }
}

export const i18n = new I18n();
