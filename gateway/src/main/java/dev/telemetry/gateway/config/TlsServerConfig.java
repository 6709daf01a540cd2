package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * TLS on a listener (an OTLP receiver's gRPC or HTTP port, the admin port): the server's PEM certificate chain and
 * key; with {@code clientCaFile}, mutual TLS — clients must present a certificate that CA issued; the lowest
 * protocol version accepted ({@code 1.2} or {@code 1.3}); the files are checked every {@code reloadInterval} and a
 * changed pair is served to new connections without a restart (zero: never).
 */
public record TlsServerConfig(Path certFile, Path keyFile, Path clientCaFile, String minVersion,
                              Duration reloadInterval) {
  public static final List<String> VERSIONS = List.of("1.2", "1.3");

  public TlsServerConfig {
    if (certFile == null || keyFile == null) {
      throw new IllegalArgumentException("cert_file and key_file are required");
    }
    if (!VERSIONS.contains(minVersion)) {
      throw new IllegalArgumentException("min_version: expected \"1.2\" or \"1.3\", found \"" + minVersion + "\"");
    }
  }

  /** The protocols a listener enables. */
  public java.util.Set<String> protocols() {
    return minVersion.equals("1.3") ? java.util.Set.of("TLSv1.3") : java.util.Set.of("TLSv1.2", "TLSv1.3");
  }

  /** {@code "tls": {...}} under {@code node}; null when absent. */
  public static TlsServerConfig read(ConfigNode parent, String key) {
    if (!parent.has(key)) {
      return null;
    }
    ConfigNode n = parent.object(key);
    n.allowOnly("cert_file", "key_file", "client_ca_file", "min_version", "reload_interval");
    String cert = n.nonBlankString("cert_file");
    String k = n.nonBlankString("key_file");
    if (!n.has("cert_file")) {
      n.error("cert_file", "required: the server's certificate chain (PEM)");
    }
    if (!n.has("key_file")) {
      n.error("key_file", "required: the server's private key (PEM, PKCS#8 or PKCS#1)");
    }
    String ca = n.has("client_ca_file") ? n.nonBlankString("client_ca_file") : null;
    String min = n.string("min_version", "1.2");
    if (min != null && !VERSIONS.contains(min)) {
      n.error("min_version", "expected \"1.2\" or \"1.3\", found \"" + min + "\"");
      min = "1.2";
    }
    Duration reload = n.duration("reload_interval", Duration.ofMinutes(1), Duration.ZERO);
    if (cert == null || k == null) {
      return null;
    }
    String m = min;
    return n.build(null, () -> new TlsServerConfig(Path.of(cert), Path.of(k), ca == null ? null : Path.of(ca), m,
        reload));
  }
}
