import type { TestProject } from 'vitest/node';
import { startApp } from '../../harness/app-server';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { url, stop } = await startApp();
  project.provide('baseUrl', url);
  return stop;
}
