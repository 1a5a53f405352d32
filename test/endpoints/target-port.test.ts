import { describe, expect, it } from 'vitest';
import { resolveTargetPort } from '../../src/analyses/endpoints/target-port.js';
import { closeNames, editDistance, isSimilar } from '../../src/core/similar-names.js';
import type { Container, Protocol, ServicePort } from '../../src/model/types.js';

const port = (targetPort: number | string, protocol: Protocol = 'TCP'): ServicePort => ({
  name: 'p',
  port: 80,
  protocol,
  targetPort,
});
const podWith = (...containers: Container[]) => ({ containers });
const container = (name: string, ports: Container['ports']): Container => ({ name, ports });

describe('resolveTargetPort (podutil.FindPort)', () => {
  const pod = podWith(
    container('app', [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'dns', containerPort: 5353, protocol: 'UDP' },
    ]),
    container('sidecar', [
      { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
      { name: 'dns', containerPort: 5354, protocol: 'TCP' },
    ]),
  );

  it('uses a numeric targetPort as it is, with the service port protocol', () => {
    expect(resolveTargetPort(port(3000), pod)).toEqual({ port: 3000, protocol: 'TCP' });
    expect(resolveTargetPort(port(53, 'UDP'), podWith())).toEqual({ port: 53, protocol: 'UDP' });
  });

  it('looks a name up in every container', () => {
    expect(resolveTargetPort(port('http'), pod)).toEqual({ port: 8080, protocol: 'TCP' });
    expect(resolveTargetPort(port('metrics'), pod)).toEqual({ port: 9100, protocol: 'TCP' });
  });

  it('only accepts a named port of the same protocol', () => {
    expect(resolveTargetPort(port('dns', 'UDP'), pod)).toEqual({ port: 5353, protocol: 'UDP' });
    expect(resolveTargetPort(port('dns', 'TCP'), pod)).toEqual({ port: 5354, protocol: 'TCP' });
    expect(resolveTargetPort(port('http', 'UDP'), pod)).toBeUndefined();
  });

  it('resolves nothing when no container declares the name', () => {
    expect(resolveTargetPort(port('https'), pod)).toBeUndefined();
    expect(resolveTargetPort(port('http'), podWith())).toBeUndefined();
  });

  it('takes the first container that declares the name, as the controller does', () => {
    const twice = podWith(
      container('a', [{ name: 'web', containerPort: 1111, protocol: 'TCP' }]),
      container('b', [{ name: 'web', containerPort: 2222, protocol: 'TCP' }]),
    );
    expect(resolveTargetPort(port('web'), twice)?.port).toBe(1111);
  });
});

describe('name similarity', () => {
  it('measures edits, counting an adjacent swap as one', () => {
    expect(editDistance('frontend', 'fronted')).toBe(1);
    expect(editDistance('web', 'wbe')).toBe(1);
    expect(editDistance('cart', 'cart')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('calls typos, case changes and suffixes similar, but not unrelated names', () => {
    expect(isSimilar('frontend', 'fronted')).toBe(true);
    expect(isSimilar('App', 'app')).toBe(true);
    expect(isSimilar('web', 'web-v2')).toBe(true);
    expect(isSimilar('web', 'api')).toBe(false);
    expect(isSimilar('db', 'ui')).toBe(false);
    expect(isSimilar('web', 'web')).toBe(false);
  });

  it('orders close names closest first', () => {
    expect(closeNames('cart', ['catalog', 'carts', 'crat', 'payments', 'cart'])).toEqual(['carts', 'crat']);
  });
});
