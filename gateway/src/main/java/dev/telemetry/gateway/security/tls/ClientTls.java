package dev.telemetry.gateway.security.tls;

import dev.telemetry.gateway.config.TlsClientConfig;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

/** TLS options of an exporter's HTTP or gRPC client: the extra CA, the client certificate, the versions. */
public final class ClientTls {
  private ClientTls() {
  }

  /** Turns TLS on in {@code options} (the backend's host name is verified). */
  public static HttpClientOptions apply(HttpClientOptions options, TlsClientConfig tls) {
    options.setSsl(true).setVerifyHost(true).setEnabledSecureTransportProtocols(tls.protocols());
    if (tls.caFile() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(tls.caFile().toString()));
    }
    if (tls.certFile() != null) {
      options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile().toString())
          .setKeyPath(tls.keyFile().toString()));
    }
    return options;
  }
}
