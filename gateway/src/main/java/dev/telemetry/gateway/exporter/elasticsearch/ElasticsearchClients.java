package dev.telemetry.gateway.exporter.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchAsyncClient;
import co.elastic.clients.json.SimpleJsonpMapper;
import co.elastic.clients.transport.DefaultTransportOptions;
import co.elastic.clients.transport.ElasticsearchTransport;
import co.elastic.clients.transport.ElasticsearchTransportBase;
import co.elastic.clients.transport.instrumentation.NoopInstrumentation;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.http.Header;
import org.apache.http.HttpHost;
import org.apache.http.message.BasicHeader;
import org.elasticsearch.client.RestClient;

/** Builds the elasticsearch-java async client over the configured transport, with auth and TLS applied. */
final class ElasticsearchClients {
  private ElasticsearchClients() {
  }

  static ElasticsearchAsyncClient create(Vertx vertx, ElasticsearchExporterConfig config) {
    Map<String, String> headers = new HashMap<>();
    if (config.auth() != null) {
      headers.put("Authorization", config.auth().authorizationHeader());
    }
    ElasticsearchTransport transport = switch (config.transport()) {
      case VERTX -> new VertxTransport(new VertxTransportHttpClient(vertx, config.endpoints(), headers,
          vertxOptions(config), config.timeout().toMillis(), config.tls().serverName()));
      case REST_CLIENT -> new RestClientTransport(restClient(config, headers), new SimpleJsonpMapper(), null,
          NoopInstrumentation.INSTANCE);
    };
    return new ElasticsearchAsyncClient(transport);
  }

  /** elasticsearch-java's transport base over our HTTP layer. */
  private static final class VertxTransport extends ElasticsearchTransportBase {
    VertxTransport(VertxTransportHttpClient http) {
      super(http, new DefaultTransportOptions(), new SimpleJsonpMapper(), NoopInstrumentation.INSTANCE);
    }
  }

  private static HttpClientOptions vertxOptions(ElasticsearchExporterConfig config) {
    HttpClientOptions o = new HttpClientOptions().setKeepAlive(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()))
        .setDecompressionSupported(true);
    boolean tls = config.endpoints().stream().anyMatch(u -> "https".equals(u.getScheme()));
    if (tls) {
      o.setSsl(true).setVerifyHost(!config.tls().insecureSkipVerify()).setTrustAll(config.tls().insecureSkipVerify());
      if (config.tls().caFile() != null) {
        o.setTrustOptions(new PemTrustOptions().addCertPath(config.tls().caFile().toString()));
      }
      if (config.tls().certFile() != null) {
        o.setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(config.tls().certFile()
            .toString()).setKeyPath(config.tls().keyFile().toString()));
      }
    }
    return o;
  }

  private static RestClient restClient(ElasticsearchExporterConfig config, Map<String, String> headers) {
    HttpHost[] hosts = config.endpoints().stream()
        .map(u -> new HttpHost(u.getHost(), u.getPort(), u.getScheme())).toArray(HttpHost[]::new);
    Header[] defaults = headers.entrySet().stream().map(e -> new BasicHeader(e.getKey(), e.getValue()))
        .toArray(Header[]::new);
    int timeout = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
    return RestClient.builder(hosts).setDefaultHeaders(defaults)
        .setRequestConfigCallback(rc -> rc.setConnectTimeout(timeout).setSocketTimeout(timeout))
        .setHttpClientConfigCallback(hc -> {
          if (config.tls().caFile() != null || config.tls().insecureSkipVerify() || config.tls().certFile() != null) {
            hc.setSSLContext(sslContext(config.tls()));
            if (config.tls().insecureSkipVerify()) {
              hc.setSSLHostnameVerifier((host, session) -> true);
            }
          }
          if (config.tls().serverName() != null && !config.tls().insecureSkipVerify()) {
            // The certificate must name server_name, whatever host the node is reached at.
            org.apache.http.conn.ssl.DefaultHostnameVerifier names = new org.apache.http.conn.ssl.DefaultHostnameVerifier();
            hc.setSSLHostnameVerifier((host, session) -> names.verify(config.tls().serverName(), session));
          }
          return hc;
        }).build();
  }

  private static SSLContext sslContext(ElasticsearchExporterConfig.Tls tls) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      if (tls.insecureSkipVerify()) {
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
          @Override
          public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {
          }

          @Override
          public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {
          }

          @Override
          public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
          }
        }}, null);
        return ctx;
      }
      javax.net.ssl.TrustManager[] trust = null; // the JVM's CAs
      if (tls.caFile() != null) {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(tls.caFile())) {
          int i = 0;
          for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
            ks.setCertificateEntry("ca-" + i++, c);
          }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        trust = tmf.getTrustManagers();
      }
      javax.net.ssl.KeyManager[] keys = tls.certFile() == null ? null
          : dev.telemetry.gateway.security.tls.PemKeys.keyManagers(tls.certFile(), tls.keyFile());
      ctx.init(keys, trust, null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException("cannot build TLS context from " + tls.caFile() + ": " + e.getMessage(), e);
    }
  }
}
