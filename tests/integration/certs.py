"""Test certificate authorities and server certificates, made with python3-cryptography."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def new_key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def _sign(builder, key):
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


class Authority:
    """A CA (optionally with an intermediate) issuing server certificates."""

    def __init__(self, name="xmppd test CA", kind="ec"):
        self.key = new_key(kind)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - datetime.timedelta(days=1))
                   .not_valid_after(NOW + datetime.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
        self.cert = _sign(builder, self.key)

    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, domain, kind="ec", days=30, not_before_days=-1, client_auth=True, names=None, usages=None):
        """usages: the extended key usages, instead of serverAuth (and clientAuth)."""
        key = new_key(kind)
        names = names or [domain]
        if usages is None:
            usages = [ExtendedKeyUsageOID.SERVER_AUTH] + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW + datetime.timedelta(days=not_before_days))
                   .not_valid_after(NOW + datetime.timedelta(days=days))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
        return key, _sign(builder, self.key)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def secret_of(key):
    """The bytes of the private key's secret as OpenSSL holds them in memory: RSA's first
    prime, the EC private scalar, the Ed25519 seed. Big-endian."""
    if isinstance(key, rsa.RSAPrivateKey):
        p = key.private_numbers().p
        return p.to_bytes((p.bit_length() + 7) // 8, "big")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        d = key.private_numbers().private_value
        return d.to_bytes((key.curve.key_size + 7) // 8, "big")
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())

def authority_in(workdir):
    """A fresh CA and the path of its certificate, written to `workdir`/ca.pem."""
    ca = Authority()
    ca_file = os.path.join(workdir, "ca.pem")
    write(ca_file, ca.pem())
    return ca, ca_file


def install(ca, certs_dir, host, kind="ec"):
    """Issues a certificate for `host` and writes it where xmppd's `certificates` finds it."""
    key, cert = ca.issue(host, kind)
    write(f"{certs_dir}/{host}.crt", cert_pem(cert))
    write(f"{certs_dir}/{host}.key", key_pem(key), 0o600)
