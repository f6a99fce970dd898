import { peerIdentity } from './peer-identity.js';

describe('peerIdentity', () => {
  const id = '6f1c2a3b-1111-4222-8333-944455556666';

  it('reads the identity URI among the names', () => {
    expect(
      peerIdentity({ subjectaltname: `DNS:host-1, URI:berth://cluster/prod/container-instance/${id}` }),
    ).toEqual({ cluster: 'prod', containerInstanceId: id });
  });

  it('is none without a certificate, names, or an identity URI', () => {
    expect(peerIdentity(undefined)).toBeUndefined();
    expect(peerIdentity({})).toBeUndefined();
    expect(peerIdentity({ subjectaltname: 'IP Address:127.0.0.1, DNS:localhost' })).toBeUndefined();
  });
});
