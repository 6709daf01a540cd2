package dev.telemetry.gateway.config;

import java.nio.file.Path;

/**
 * TLS towards a backend ({@code tls} on an exporter with an {@code https} endpoint): a CA to trust besides the JVM's
 * ({@code caFile}), a client certificate and key for mutual TLS, and the lowest protocol version. The backend's
 * certificate must name {@code serverName} (also sent as SNI) when set, else the endpoint's host.
 */
public record TlsClientConfig(Path caFile, Path certFile, Path keyFile, String minVersion, String serverName) {
  public static final TlsClientConfig DEFAULTS = new TlsClientConfig(null, null, null, "1.2", null);

  public TlsClientConfig(Path caFile, Path certFile, Path keyFile, String minVersion) {
    this(caFile, certFile, keyFile, minVersion, null);
  }

  public TlsClientConfig {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("cert_file and key_file go together (mutual TLS)");
    }
  }

  public java.util.Set<String> protocols() {
    return minVersion.equals("1.3") ? java.util.Set.of("TLSv1.3") : java.util.Set.of("TLSv1.2", "TLSv1.3");
  }

  /** {@code "tls": {...}} under {@code parent}; the defaults when absent. */
  public static TlsClientConfig read(ConfigNode parent, String key) {
    if (!parent.has(key)) {
      return DEFAULTS;
    }
    ConfigNode n = parent.object(key);
    n.allowOnly("ca_file", "cert_file", "key_file", "min_version", "server_name");
    String server = n.has("server_name") ? n.nonBlankString("server_name") : null;
    String ca = n.has("ca_file") ? n.nonBlankString("ca_file") : null;
    String cert = n.has("cert_file") ? n.nonBlankString("cert_file") : null;
    String k = n.has("key_file") ? n.nonBlankString("key_file") : null;
    if ((cert == null) != (k == null)) {
      n.error(cert == null ? "cert_file" : "key_file", "cert_file and key_file go together (the client certificate "
          + "and its key, for mutual TLS)");
    }
    String min = n.string("min_version", "1.2");
    if (min != null && !TlsServerConfig.VERSIONS.contains(min)) {
      n.error("min_version", "expected \"1.2\" or \"1.3\", found \"" + min + "\"");
      min = "1.2";
    }
    String m = min;
    return n.build(null, () -> new TlsClientConfig(ca == null ? null : Path.of(ca), cert == null ? null
        : Path.of(cert), k == null ? null : Path.of(k), m, server));
  }
}
