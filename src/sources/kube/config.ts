// Finding the cluster exactly as kubectl does: --kubeconfig, else $KUBECONFIG (a list of files,
// merged: the first file to set a name or the current context wins), else ~/.kube/config, else
// the in-cluster service account; --context, else the current context; the context's namespace.
// The Kubernetes client is imported dynamically so that bundle commands never load it.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { UserError } from '../../core/errors.js';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
}

export interface KubeConnection {
  kc: KubeConfig;
  /** The context in use ("inClusterContext" inside a pod). */
  context: string;
  /** The API server URL without a trailing slash. */
  server: string;
  /** The context's namespace, else "default". */
  defaultNamespace: string;
  /** Where the configuration came from, for messages. */
  source: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type ClientModule = typeof import('@kubernetes/client-node');

let clientModule: Promise<ClientModule> | undefined;

/** The Kubernetes client, loaded on first use only. */
export function loadClient(): Promise<ClientModule> {
  clientModule ??= import('@kubernetes/client-node');
  return clientModule;
}

function loadFile(k8s: ClientModule, file: string): KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new UserError(`cannot read kubeconfig ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  return kc;
}

/** kubectl's merge rule: the first file that sets a name (or the current context) wins. */
function mergeFirstWins(k8s: ClientModule, configs: KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const c of configs) {
    for (const x of c.clusters ?? []) if (!clusters.has(x.name)) clusters.set(x.name, x);
    for (const x of c.users ?? []) if (!users.has(x.name)) users.set(x.name, x);
    for (const x of c.contexts ?? []) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (!currentContext && c.currentContext) currentContext = c.currentContext;
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return kc;
}

async function loadKubeConfig(opts: ConnectOptions): Promise<{ kc: KubeConfig; source: string }> {
  const k8s = await loadClient();
  if (opts.kubeconfig) {
    const file = path.resolve(opts.kubeconfig);
    if (!existsSync(file)) throw new UserError(`kubeconfig not found: ${opts.kubeconfig}`);
    return { kc: loadFile(k8s, file), source: file };
  }
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(path.delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) {
      throw new UserError(`none of the files in $KUBECONFIG exists (${env}); fix it or pass --kubeconfig`);
    }
    const configs = files.map((f) => loadFile(k8s, path.resolve(f)));
    return {
      kc: configs.length === 1 ? configs[0] : mergeFirstWins(k8s, configs),
      source: files.join(path.delimiter),
    };
  }
  const home = path.join(os.homedir(), '.kube', 'config');
  if (existsSync(home)) return { kc: loadFile(k8s, home), source: home };
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SA_DIR, 'token'))) {
    const kc = new k8s.KubeConfig();
    kc.loadFromCluster();
    for (const c of kc.contexts) if (c.namespace) Object.assign(c, { namespace: c.namespace.trim() });
    return { kc, source: 'in-cluster service account' };
  }
  throw new UserError(
    'no kubeconfig found: set $KUBECONFIG, pass --kubeconfig FILE, create ~/.kube/config, ' +
      'or read a bundle with --snapshot PATH',
  );
}

/** Loads the configuration and selects the context, as kubectl would. */
export async function connectKube(opts: ConnectOptions): Promise<KubeConnection> {
  const { kc, source } = await loadKubeConfig(opts);
  const names = kc.getContexts().map((c) => c.name);
  const contextName = opts.context ?? kc.getCurrentContext();
  if (!contextName) {
    throw new UserError(
      `the kubeconfig (${source}) has no current context: pass --context NAME` +
        (names.length ? ` (one of: ${names.join(', ')})` : ''),
    );
  }
  const context = kc.getContextObject(contextName);
  if (!context) {
    throw new UserError(
      `context "${contextName}" not found in the kubeconfig (${source})` +
        (names.length ? `; available: ${names.join(', ')}` : ''),
    );
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCluster(context.cluster);
  if (!cluster?.server) {
    throw new UserError(
      `context "${contextName}" names cluster "${context.cluster}", which the kubeconfig lacks`,
    );
  }
  if (context.user && !kc.getUser(context.user)) {
    throw new UserError(`context "${contextName}" names user "${context.user}", which the kubeconfig lacks`);
  }
  // kubectl talks plain HTTP to an http:// server (kubectl proxy); client-node's agent refuses
  // unless TLS verification is off, which is meaningless without TLS anyway.
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    Object.assign(cluster, { skipTLSVerify: true });
  }
  return {
    kc,
    context: contextName,
    server: cluster.server.replace(/\/+$/, ''),
    defaultNamespace: context.namespace || 'default',
    source,
  };
}
