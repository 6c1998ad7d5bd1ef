/**
 * Loaded with `node --import` before router-service's main.js: every import
 * of @router-service/vlan-iproute2 from outside this package resolves to
 * vlan-iproute2-stand-in.js, so that the unchanged daemon makes veth pairs
 * where it would make 802.1Q links.
 */
import { enableCompileCache, registerHooks } from 'node:module';

// The tests start the daemon hundreds of times: compile its modules once.
enableCompileCache();

const REPLACED = '@router-service/vlan-iproute2';
const STAND_IN = new URL('./vlan-iproute2-stand-in.js', import.meta.url).href;
// Compiled to dist/src/: the stand-in's own imports (anything under dist/) get the real module.
const THIS_PACKAGE = new URL('../', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === REPLACED && !(context.parentURL ?? '').startsWith(THIS_PACKAGE)) {
      return { url: STAND_IN, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});
