import { describe, expect, it } from 'vitest';
import { fillTemplate } from '../../src/lib/template';
import { MESSAGES } from '../../src/lib/messages';

describe('message templates', () => {
  it('fills values and picks the plural form the locale’s rules give: "1 file", "2 files"', () => {
    expect(fillTemplate(MESSAGES.en.skippedFiles, { n: 1 }, 'en')).toBe('1 file skipped');
    expect(fillTemplate(MESSAGES.en.skippedFiles, { n: 2 }, 'en')).toBe('2 files skipped');
    expect(fillTemplate(MESSAGES.en.skippedFiles, { n: 0 }, 'en')).toBe('0 files skipped');
    expect(fillTemplate(MESSAGES.en.models.classes, { n: 1 }, 'en')).toBe('1 class');
    expect(fillTemplate(MESSAGES.zh.skippedFiles, { n: 1 }, 'zh-CN')).toBe('跳过了 1 个文件');
    expect(fillTemplate('{a} and {missing}', { a: 'x' }, 'en')).toBe('x and {missing}');
  });
});
