import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STUDENTS } from '../../src/core/students';
import { ROOT } from '../helpers/model';

describe('the distillation students the site serves', () => {
  it('are the files whose digests the app checks, with their licence', () => {
    for (const { file, sha256 } of Object.values(STUDENTS))
      expect(
        createHash('sha256')
          .update(readFileSync(resolve(ROOT, 'public/students', file)))
          .digest('hex'),
      ).toBe(sha256);
    expect(readFileSync(resolve(ROOT, 'public/students/LICENSE'), 'utf8')).toMatch(/Apache License/);
  });
});
