// A small observable store: screens read a slice with `useStore` and re-render when it changes.
import { useEffect, useState } from "preact/hooks";

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(update) {
      const changes = typeof update === "function" ? update(state) : update;
      state = { ...state, ...changes };
      for (const listener of listeners) listener(state);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore(store, select = (state) => state) {
  const [value, setValue] = useState(() => select(store.get()));
  useEffect(() => {
    setValue(() => select(store.get()));
    return store.subscribe((state) => setValue(() => select(state)));
  }, [store]);
  return value;
}
