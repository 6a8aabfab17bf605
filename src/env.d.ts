/** The embed allow-list the build was made for (GLIMPSE_EMBED_ORIGINS, see host/settings.ts). */
declare const __GLIMPSE_EMBED_ORIGINS__: '*' | string[];
