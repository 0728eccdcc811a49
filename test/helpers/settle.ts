// A promise that must settle in time: a hang is reported as a failure naming what hung,
// not left to the test runner's timeout.

/** Settles as `p` does, or rejects after `ms` with "`what` did not settle within ms (hang)". */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}
