import { describe, expect, it, vi } from 'vitest';
import {
  ERROR_NAMES,
  errorCodeOf,
  errorNameOf,
  GlimpseError,
  ImageTooLargeError,
  BusyError,
} from '../../src/core/errors';
import { MESSAGES } from '../../src/lib/messages';

describe('named errors', () => {
  it('carry their code in `name`, which is all comlink keeps', () => {
    const error = new ImageTooLargeError('100000x100000');
    expect(error).toBeInstanceOf(GlimpseError);
    expect(error.name).toBe('ImageTooLargeError');
    const overTheWire = Object.assign(new Error(error.message), { name: error.name });
    expect(errorNameOf(overTheWire)).toBe('ImageTooLargeError');
    expect(errorCodeOf(overTheWire)).toBe('too-large');
  });

  it('map unknown errors to a generic code', () => {
    expect(errorNameOf(new TypeError('x'))).toBe('UnknownError');
    expect(errorCodeOf('a string')).toBe('internal');
    expect(errorCodeOf(new BusyError('full'))).toBe('busy');
  });

  it.each(Object.keys(MESSAGES))('has user-facing text for every error in %s', (locale) => {
    const errors = MESSAGES[locale as keyof typeof MESSAGES].errors;
    for (const name of [...ERROR_NAMES, 'UnknownError'] as const) expect(errors[name]).toMatch(/\S/);
  });
});

describe('error texts by what the user was doing', () => {
  it('tell an unknown failure while reading a model as that, not as a failed classification', async () => {
    vi.stubGlobal('navigator', { language: 'en', languages: ['en'] });
    const { i18n } = await import('../../src/lib/i18n.svelte');
    const crash = new TypeError("Cannot read properties of undefined (reading 'shape')");
    expect(i18n.error(crash)).toBe(MESSAGES.en.errors.UnknownError);
    expect(i18n.error(crash, 'reading a model')).toBe(MESSAGES.en.models.failed);
    expect(i18n.error(crash, 'reading a model')).not.toMatch(/classif/i);
    // A named error keeps its own text either way.
    const named = Object.assign(new Error('x'), { name: 'ModelFormatError' });
    expect(i18n.error(named, 'reading a model')).toBe(MESSAGES.en.errors.ModelFormatError);
  });
});
