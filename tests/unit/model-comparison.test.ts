import { describe, expect, it } from 'vitest';
import { accuracyPlot, agreement, plotLayout, top1 } from '../../src/core/model-comparison';

describe('models side by side', () => {
  it('counts top-1 by label, a class the model lacks as wrong, and agreement with the reference', () => {
    const truth = ['macaw', 'hotdog', 'other', 'other'];
    const student = ['macaw', 'hotdog', 'other', 'macaw'];
    const teacher = ['macaw', 'hotdog', 'tabby', 'Egyptian cat'];
    expect(top1(student, truth)).toBe(0.75);
    expect(top1(teacher, truth)).toBe(0.5);
    expect(agreement(teacher, student)).toBe(0.5);
    expect(agreement(student, student)).toBe(1);
    expect(top1([], [])).toBeNaN();
  });

  it('places faster models left and better ones higher, and escapes names in the SVG', () => {
    const layout = plotLayout([
      { label: 'teacher', top1: 0.9, msPerImage: 40 },
      { label: 'student', top1: 0.6, msPerImage: 5 },
    ]);
    const [teacher, student] = layout.points;
    expect(student!.x).toBeLessThan(teacher!.x);
    expect(teacher!.y).toBeLessThan(student!.y);
    expect(layout.points.every((p) => p.x >= layout.pad && p.x <= layout.width - layout.pad)).toBe(true);
    const svg = accuracyPlot([{ label: '<script>"x"</script>', top1: 0.5, msPerImage: 1 }]);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&#60;script&#62;&#34;x&#34;');
  });
});
