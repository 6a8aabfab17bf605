/** The embed allow-list the build was made for (GLIMPSE_EMBED_ORIGINS, see host/settings.ts). */
declare const __GLIMPSE_EMBED_ORIGINS__: '*' | string[];
/** The release label shown in the app (GLIMPSE_RELEASE at build time, else the package version). */
declare const __GLIMPSE_RELEASE__: string;

