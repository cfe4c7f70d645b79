// The SigV4 signing path the transport uses (createSigV4Signer over the AWS SDK's signer) against
// AWS's published Signature Version 4 test suite vectors (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z,
// us-east-1, service "service"), as the signer's own repository ships them. The independent check of
// real requests (botocore) is in test/integration/engine-connections.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSigV4Signer, parseQuery } from '../../src/sink/aws-sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const scope = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

interface Vector {
  name: string;
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  signedHeaders: string;
  signature: string;
}

const VECTORS: Vector[] = [
  { name: 'get-vanilla', method: 'GET', path: '/', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'get-vanilla-empty-query-key', method: 'GET', path: '/', query: { Param1: 'value1' }, signedHeaders: 'host;x-amz-date', signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', path: '/', query: { Param2: 'value2', Param1: 'value1' }, signedHeaders: 'host;x-amz-date', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  { name: 'get-unreserved', method: 'GET', path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', signedHeaders: 'host;x-amz-date', signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
  { name: 'get-utf8', method: 'GET', path: '/ሴ', signedHeaders: 'host;x-amz-date', signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85' },
  { name: 'get-vanilla-utf8-query', method: 'GET', path: '/', query: { ሴ: 'bar' }, signedHeaders: 'host;x-amz-date', signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
  { name: 'get-header-value-trim', method: 'GET', path: '/', headers: { 'my-header1': 'value1', 'my-header2': '"a   b   c"' }, signedHeaders: 'host;my-header1;my-header2;x-amz-date', signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736' },
  { name: 'post-vanilla', method: 'POST', path: '/', signedHeaders: 'host;x-amz-date', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'post-vanilla-query', method: 'POST', path: '/', query: { Param1: 'value1' }, signedHeaders: 'host;x-amz-date', signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11' },
  { name: 'post-header-key-sort', method: 'POST', path: '/', headers: { 'my-header1': 'value1' }, signedHeaders: 'host;my-header1;x-amz-date', signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c' },
  { name: 'post-header-value-case', method: 'POST', path: '/', headers: { 'my-header1': 'VALUE1' }, signedHeaders: 'host;my-header1;x-amz-date', signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d' },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

describe('SigV4 signer against AWS published test vectors', () => {
  for (const v of VECTORS) {
    it(v.name, async () => {
      const sign = await createSigV4Signer({ region: 'us-east-1', service: 'service', credentials, signingDate: new Date('2015-08-30T12:36:00Z'), payloadHashHeader: false });
      const added = await sign({
        method: v.method,
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        port: undefined,
        path: v.path,
        query: v.query ?? {},
        headers: { host: 'example.amazonaws.com', ...v.headers },
        body: v.body,
      });
      assert.equal(added.authorization, `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=${v.signedHeaders}, Signature=${v.signature}`);
      assert.equal(added['x-amz-date'], '20150830T123600Z');
    });
  }

  it('adds the payload hash and the session token it signs (what the transport sends)', async () => {
    const sign = await createSigV4Signer({ region: 'eu-west-1', service: 'aoss', credentials: { ...credentials, sessionToken: 'token-1' }, signingDate: new Date('2015-08-30T12:36:00Z') });
    const added = await sign({ method: 'POST', protocol: 'https:', hostname: 'x.aoss.amazonaws.com', port: 8443, path: '/_bulk', query: {}, headers: { host: 'x.aoss.amazonaws.com:8443', 'content-type': 'application/x-ndjson' }, body: '{}\n' });
    assert.equal(added['x-amz-content-sha256'], 'ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356');
    assert.equal(added['x-amz-security-token'], 'token-1');
    assert.match(added.authorization!, /Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/aoss\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  });

  it('parses repeated query keys into arrays', () => {
    assert.deepEqual(parseQuery('a=1&b=2&a=3'), { a: ['1', '3'], b: '2' });
  });
});
