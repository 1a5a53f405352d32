// A throw-away PKI for the test API server, made with the machine's openssl: a CA, a server
// certificate for 127.0.0.1/localhost, and a client certificate (CN = user, O = group).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../support/cli.js';

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  clientCertFile: string;
  clientKeyFile: string;
  /** A client certificate from another CA: must be rejected. */
  strangerCertFile: string;
  strangerKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function keyAndCsr(cwd: string, name: string, subject: string): void {
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ],
    cwd,
  );
}

function selfSigned(cwd: string, name: string, subject: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      subject,
    ],
    cwd,
  );
}

function sign(cwd: string, name: string, ca: string, ext: string): void {
  writeFileSync(path.join(cwd, `${name}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    cwd,
  );
}

export function makePki(user = 'knet-cert-user', group = 'knet:readers'): TestPki {
  // Removed after the test file, with the other temporary folders (test/support/setup.ts).
  const dir = tempDir('knet9-pki-');
  selfSigned(dir, 'ca', '/CN=knet-test-ca');
  keyAndCsr(dir, 'server', '/CN=knet-test-apiserver');
  sign(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  keyAndCsr(dir, 'client', `/O=${group}/CN=${user}`);
  sign(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  selfSigned(dir, 'otherca', '/CN=another-ca');
  keyAndCsr(dir, 'stranger', `/O=${group}/CN=${user}`);
  sign(dir, 'stranger', 'otherca', 'extendedKeyUsage=clientAuth\n');
  const f = (n: string) => path.join(dir, n);
  return {
    dir,
    caFile: f('ca.crt'),
    ca: readFileSync(f('ca.crt')),
    serverKey: readFileSync(f('server.key')),
    serverCert: readFileSync(f('server.crt')),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    strangerCertFile: f('stranger.crt'),
    strangerKeyFile: f('stranger.key'),
  };
}
