package dev.telemetry.gateway.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A test's own PKI, made with the openssl command line (Debian package {@code openssl}): a CA, certificates it
 * issues (server certificates for localhost and 127.0.0.1, client certificates with a common name), an expired one,
 * and a second, untrusted CA. EC P-256 keys in PKCS#8 PEM, as the OpenTelemetry SDK and Vert.x read them.
 */
public final class Certificates {
  private final Path dir;
  private final String openssl = Processes.binary("openssl", "/usr/bin/openssl", "/usr/local/bin/openssl");
  private final String name;

  /** A CA named {@code name} in {@code dir}. */
  public Certificates(Path dir, String name) throws Exception {
    this.dir = Files.createDirectories(dir);
    this.name = name;
    Processes.run(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key(name).toString(), "-out", cert(name).toString(), "-days", "3", "-subj", "/CN=" + name);
  }

  public Path caCert() {
    return cert(name);
  }

  public Path cert(String who) {
    return dir.resolve(who + ".crt");
  }

  public Path key(String who) {
    return dir.resolve(who + ".key");
  }

  /** A server certificate for localhost and 127.0.0.1, valid for {@code days}. */
  public Certificates server(String who, int days) throws Exception {
    return issue(who, "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        days);
  }

  /** A cluster member's certificate: a server (localhost, 127.0.0.1) and a client at once, named {@code commonName}. */
  public Certificates member(String who, String commonName) throws Exception {
    return issue(who, "/CN=" + commonName, "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        + "extendedKeyUsage=serverAuth,clientAuth\n", 2);
  }

  /** A server certificate for the DNS name {@code dnsName} only (not for the address it is reached at). */
  public Certificates serverNamed(String who, String dnsName) throws Exception {
    return issue(who, "/CN=" + dnsName, "subjectAltName=DNS:" + dnsName + "\nextendedKeyUsage=serverAuth\n", 2);
  }

  /** A client certificate with common name {@code commonName}. */
  public Certificates client(String who, String commonName) throws Exception {
    return issue(who, "/CN=" + commonName, "extendedKeyUsage=clientAuth\n", 2);
  }

  private Certificates issue(String who, String subject, String extensions, int days) throws Exception {
    Path csr = dir.resolve(who + ".csr");
    Path ext = dir.resolve(who + ".ext");
    Files.writeString(ext, extensions);
    Processes.run(openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        key(who).toString(), "-out", csr.toString(), "-subj", subject);
    Processes.run(openssl, "x509", "-req", "-in", csr.toString(), "-CA", caCert().toString(), "-CAkey",
        key(name).toString(), "-CAcreateserial", "-out", cert(who).toString(), "-days", Integer.toString(days),
        "-extfile", ext.toString());
    return this;
  }

  /** A client certificate that expired in 2020 (issued through {@code openssl ca}, which can back-date). */
  public Certificates expiredClient(String who, String commonName) throws Exception {
    Path csr = dir.resolve(who + ".csr");
    Processes.run(openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        key(who).toString(), "-out", csr.toString(), "-subj", "/CN=" + commonName);
    Path db = Files.createDirectories(dir.resolve("ca-db"));
    Files.writeString(db.resolve("index.txt"), "");
    Files.writeString(db.resolve("serial"), "1000\n");
    Path cnf = dir.resolve("ca.cnf");
    Files.writeString(cnf, """
        [ ca ]
        default_ca = local
        [ local ]
        database = %1$s/index.txt
        new_certs_dir = %1$s
        serial = %1$s/serial
        default_md = sha256
        policy = any
        [ any ]
        commonName = supplied
        """.formatted(db));
    Processes.run(openssl, "ca", "-batch", "-config", cnf.toString(), "-cert", caCert().toString(), "-keyfile",
        key(name).toString(), "-in", csr.toString(), "-out", cert(who).toString(), "-startdate", "20200101000000Z",
        "-enddate", "20200102000000Z", "-notext");
    return this;
  }
}
