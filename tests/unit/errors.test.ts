import { describe, expect, it } from 'vitest';
import { ERROR_NAMES, errorCodeOf, errorNameOf, GlimpseError, ImageTooLargeError, BusyError } from '../../src/core/errors';
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
