import { describe, expect, it } from 'vitest';
import { parseOrigins, readSettings } from '../../build/deploy-settings';

describe('deploy settings', () => {
  it('reads the embed allow-list as origins', () => {
    expect(parseOrigins(undefined)).toBe('*');
    expect(parseOrigins(' * ')).toBe('*');
    expect(parseOrigins('https://a.example, http://b.example:8080/')).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
    expect(readSettings({ GLIMPSE_ISOLATE: '1' })).toEqual({ embedOrigins: '*', isolate: true });
  });

  it('names the malformed entry instead of failing with a bare "Invalid URL"', () => {
    for (const bad of ['not a url', 'https://', 'ftp://a.example', 'https://a.example/path', 'a.example']) {
      expect(() => parseOrigins(`https://ok.example,${bad}`), bad).toThrow(
        `GLIMPSE_EMBED_ORIGINS: "${bad}" is not an origin`,
      );
    }
  });
});
