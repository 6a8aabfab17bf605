/**
 * The small backbones a distilled model is built on (public/students, from google-coral/test_data,
 * Apache-2.0): served with the site, fetched only when the user makes a smaller model, and checked
 * against these digests before they are read.
 */
export const STUDENTS = {
  'mobilenet_v1_0.25_128': {
    file: 'mobilenet_v1_0.25_128_quant.tflite',
    sha256: 'cb273c23ee76374b05b9583177e28aa19744858a7679c56a250e83d0333da785',
    inputSize: 128,
  },
  'mobilenet_v1_0.5_160': {
    file: 'mobilenet_v1_0.5_160_quant.tflite',
    sha256: '3cc6d2ca460abd2e0f699a6d0d2550c6b61c6e3b0e27a3616e384ea74cb86f43',
    inputSize: 160,
  },
} as const;

export type StudentName = keyof typeof STUDENTS;

export const DEFAULT_STUDENT: StudentName = 'mobilenet_v1_0.25_128';

export const isStudentName = (name: string): name is StudentName => Object.hasOwn(STUDENTS, name);
