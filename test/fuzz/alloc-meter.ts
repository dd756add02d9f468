// Counts the bytes of binary buffers JavaScript code allocates during one call: `new Uint8Array(n)`,
// `new ArrayBuffer(n)`, typed-array `slice` copies and Buffer.alloc*. It cannot be read from the
// process (Linux maps a large zeroed buffer lazily, so neither RSS nor the heap counters move when a
// decoder asks for 1 GB and touches little of it), so the global constructors are wrapped while a
// test file runs: `install()` in beforeAll, `uninstall()` in afterAll.
// Not counted: strings, arrays and objects, and buffers made natively (TextEncoder, Response).

const RealUint8Array = Uint8Array;
const RealArrayBuffer = ArrayBuffer;
const realSlice = Object.getPrototypeOf(Uint8Array.prototype).slice as (this: Uint8Array, start?: number, end?: number) => Uint8Array;
const realBuffer = {
  alloc: Buffer.alloc,
  allocUnsafe: Buffer.allocUnsafe,
  allocUnsafeSlow: Buffer.allocUnsafeSlow,
};

let counting = false;
let counted = 0;
let installed = false;

function wrapConstructor<C extends Uint8ArrayConstructor | ArrayBufferConstructor>(real: C): C {
  const proxy: C = new Proxy(real, {
    construct(target, args, newTarget) {
      const made = Reflect.construct(target, args, newTarget === proxy ? target : newTarget) as ArrayBufferLike | Uint8Array;
      // A view over an existing buffer allocates nothing; only count fresh storage.
      const first = args[0];
      const fresh = !(first instanceof RealArrayBuffer) && !(typeof SharedArrayBuffer !== "undefined" && first instanceof SharedArrayBuffer);
      if (counting && fresh) counted += made.byteLength;
      return made;
    },
  });
  return proxy;
}

export function install(): void {
  if (installed) return;
  installed = true;
  globalThis.Uint8Array = wrapConstructor(RealUint8Array);
  globalThis.ArrayBuffer = wrapConstructor(RealArrayBuffer);
  Object.defineProperty(RealUint8Array.prototype, "slice", {
    configurable: true,
    writable: true,
    value: function slice(this: Uint8Array, start?: number, end?: number): Uint8Array {
      const out = realSlice.call(this, start, end);
      if (counting) counted += out.byteLength;
      return out;
    },
  });
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const) {
    const real = realBuffer[name] as (size: number, ...rest: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
      if (counting && typeof size === "number") counted += size;
      return real.call(Buffer, size, ...rest);
    };
  }
}

export function uninstall(): void {
  if (!installed) return;
  installed = false;
  globalThis.Uint8Array = RealUint8Array;
  globalThis.ArrayBuffer = RealArrayBuffer;
  delete (RealUint8Array.prototype as unknown as Record<string, unknown>).slice;
  Object.assign(Buffer, realBuffer);
}

/** Runs `fn` and returns what it returned or threw, with the binary bytes it allocated. */
export function metered<T>(fn: () => T): { bytes: number; value?: T; error?: unknown; threw: boolean } {
  if (!installed) throw new Error("alloc-meter: install() first (in beforeAll)");
  const before = counted;
  counting = true;
  try {
    const value = fn();
    return { bytes: counted - before, value, threw: false };
  } catch (error) {
    return { bytes: counted - before, error, threw: true };
  } finally {
    counting = false;
  }
}
