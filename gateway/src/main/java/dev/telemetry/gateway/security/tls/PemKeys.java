package dev.telemetry.gateway.security.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;

/** A PEM certificate chain and PKCS#8 key as JSSE key managers, for clients that do not read PEM themselves. */
public final class PemKeys {
  private PemKeys() {
  }

  public static KeyManager[] keyManagers(Path certFile, Path keyFile) throws Exception {
    Certificate[] chain;
    try (InputStream in = Files.newInputStream(certFile)) {
      chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(new Certificate[0]);
    }
    String pem = Files.readString(keyFile);
    if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
      throw new IOException(keyFile + ": expected a PKCS#8 key (BEGIN PRIVATE KEY); convert one with "
          + "`openssl pkcs8 -topk8 -nocrypt -in key.pem`");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    PrivateKey key = null;
    for (String algorithm : new String[] {"EC", "RSA"}) {
      try {
        key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        break;
      } catch (java.security.spec.InvalidKeySpecException e) {
        // another algorithm's key
      }
    }
    if (key == null) {
      throw new IOException(keyFile + ": neither an EC nor an RSA key");
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("client", key, new char[0], chain);
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    return kmf.getKeyManagers();
  }
}
