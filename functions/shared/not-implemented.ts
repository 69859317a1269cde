/**
 * What a step that is not built yet returns: it says so, with what it will do and where that is
 * tracked, and it never claims success. The report shows these as `not-implemented`.
 */
export interface NotImplemented {
  step: string;
  status: 'not-implemented';
  detail: string;
}

export function notImplemented(step: string, detail: string): NotImplemented {
  return { step, status: 'not-implemented', detail };
}
