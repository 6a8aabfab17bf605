/** The sha256 of public/model/manifest.json at build time: the built-in model's manifest is checked against it. */
declare const __GLIMPSE_MODEL_MANIFEST_SHA256__: string;
