package dev.telemetry.gateway.security.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Certificates;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Vertx;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mutual TLS on the OTLP receivers, with the OpenTelemetry Java SDK's own exporters over gRPC and HTTP and
 * a PKI the test makes with openssl: a client with a certificate of the trusted CA gets through; no certificate, one
 * from another CA, or an expired one does not; a client that does not trust the server's CA refuses it; TLS 1.2 is
 * refused where 1.3 is the minimum; a certificate replaced on disk is served to new connections without a restart
 * (and its expiry published), while the connections already open keep working.
 */
class TlsReceiverIT {
  static final String CONFIG = """
      {
        "receivers": {
          "otlp": {"type": "otlp",
            "grpc": {"endpoint": "127.0.0.1:{{GRPC}}", "tls": {"cert_file": "{{CERT}}", "key_file": "{{KEY}}",
                     "client_ca_file": "{{CA}}", "reload_interval": "500ms"}},
            "http": {"endpoint": "127.0.0.1:{{HTTP}}", "tls": {"cert_file": "{{CERT}}", "key_file": "{{KEY}}",
                     "client_ca_file": "{{CA}}", "min_version": "1.3", "reload_interval": "500ms"}}}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{JAEGER}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]}},
        "logging": {"level": "warn"}
      }""";

  @TempDir
  Path tmp;

  @Test
  void onlyClientsOfTheTrustedCaGetThroughAndARotatedCertificateIsServedWithoutARestart() throws Exception {
    Certificates pki = new Certificates(tmp.resolve("pki"), "test-ca").server("server", 2).server("server-next", 5)
        .client("client", "tenant-a").expiredClient("expired", "tenant-a");
    Certificates rogue = new Certificates(tmp.resolve("rogue"), "rogue-ca").client("client", "tenant-a");
    Path cert = tmp.resolve("served.crt");
    Path key = tmp.resolve("served.key");
    Files.copy(pki.cert("server"), cert);
    Files.copy(pki.key("server"), key);
    Vertx vertx = Vertx.vertx();
    OtlpSink jaeger = new OtlpSink(vertx, Ports.free()).start();
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("CERT", cert.toString(), "KEY", key.toString(),
        "CA", pki.caCert().toString(), "JAEGER", jaeger.endpoint()))) {
      byte[] ca = Files.readAllBytes(pki.caCert());
      byte[] clientKey = Files.readAllBytes(pki.key("client"));
      byte[] clientCert = Files.readAllBytes(pki.cert("client"));
      String grpcUrl = "https://localhost:" + gw.grpcPort;
      String httpUrl = "https://localhost:" + gw.httpPort + "/v1/traces";
      SpanExporter grpc = OtlpGrpcSpanExporter.builder().setEndpoint(grpcUrl).setTrustedCertificates(ca)
          .setClientTls(clientKey, clientCert).build();
      SpanExporter http = OtlpHttpSpanExporter.builder().setEndpoint(httpUrl).setTrustedCertificates(ca)
          .setClientTls(clientKey, clientCert).build();
      assertThat(export(grpc, "grpc-1")).as("gRPC with a client certificate of the CA").isTrue();
      assertThat(export(http, "http-1")).as("HTTP with a client certificate of the CA").isTrue();
      Await.until("both spans at the backend", Duration.ofSeconds(10), () -> jaeger.items(Signal.TRACES) == 2);

      // No client certificate, another CA's, an expired one: refused during the handshake.
      assertThat(export(OtlpGrpcSpanExporter.builder().setEndpoint(grpcUrl).setTrustedCertificates(ca).build(),
          "no-cert")).isFalse();
      assertThat(export(OtlpHttpSpanExporter.builder().setEndpoint(httpUrl).setTrustedCertificates(ca)
          .setClientTls(Files.readAllBytes(rogue.key("client")), Files.readAllBytes(rogue.cert("client"))).build(),
          "rogue")).isFalse();
      assertThat(export(OtlpGrpcSpanExporter.builder().setEndpoint(grpcUrl).setTrustedCertificates(ca)
          .setClientTls(Files.readAllBytes(pki.key("expired")), Files.readAllBytes(pki.cert("expired"))).build(),
          "expired")).isFalse();
      // A client that trusts only another CA does not accept the gateway.
      assertThat(export(OtlpHttpSpanExporter.builder().setEndpoint(httpUrl)
          .setTrustedCertificates(Files.readAllBytes(rogue.caCert())).setClientTls(clientKey, clientCert).build(),
          "untrusting")).isFalse();
      Thread.sleep(500);
      assertThat(jaeger.items(Signal.TRACES)).as("nothing from the refused clients").isEqualTo(2);

      // min_version 1.3 on the HTTP port: a TLS 1.2 client is refused, 1.3 is served; the gRPC port takes 1.2.
      assertThat(handshake(pki, gw.httpPort, "TLSv1.2")).isNull();
      assertThat(handshake(pki, gw.httpPort, "TLSv1.3")).isNotNull();
      assertThat(handshake(pki, gw.grpcPort, "TLSv1.2")).isNotNull();

      // Rotation: the next certificate replaces the files; new connections get it, the open ones keep working.
      X509Certificate before = handshake(pki, gw.httpPort, "TLSv1.3");
      X509Certificate next = read(pki.cert("server-next"));
      assertThat(gw.gauge("gateway.tls.certificate.expiry", "listener", "otlp/http"))
          .isEqualTo(before.getNotAfter().getTime() / 1000.0);
      Files.copy(pki.key("server-next"), key, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(pki.cert("server-next"), cert, StandardCopyOption.REPLACE_EXISTING);
      Await.until("the new certificate published", Duration.ofSeconds(10), () ->
          gw.gauge("gateway.tls.certificate.expiry", "listener", "otlp/http") == next.getNotAfter().getTime() / 1000.0
              && gw.gauge("gateway.tls.certificate.expiry", "listener", "otlp/grpc")
              == next.getNotAfter().getTime() / 1000.0);
      Await.until("new connections get it", Duration.ofSeconds(10),
          () -> next.getSerialNumber().equals(handshake(pki, gw.httpPort, "TLSv1.3").getSerialNumber()));
      assertThat(handshake(pki, gw.grpcPort, "TLSv1.3").getSerialNumber()).isEqualTo(next.getSerialNumber());
      assertThat(export(grpc, "grpc-2")).as("the exporter's open connection still works").isTrue();
      assertThat(export(http, "http-2")).isTrue();
      Await.until("all four spans", Duration.ofSeconds(10), () -> jaeger.items(Signal.TRACES) == 4);

      // A broken file is not installed: the served certificate stays.
      Files.writeString(cert, "not a certificate");
      Await.until("the broken file rejected", Duration.ofSeconds(10),
          () -> gw.counter("gateway.tls.reloads", "listener", "otlp/http", "result", "rejected") >= 1);
      assertThat(handshake(pki, gw.httpPort, "TLSv1.3").getSerialNumber()).isEqualTo(next.getSerialNumber());
      grpc.shutdown().join(10, TimeUnit.SECONDS);
      http.shutdown().join(10, TimeUnit.SECONDS);
    } finally {
      jaeger.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The gateway's exporters towards backends that require mutual TLS: the OTLP exporter presents its client
   * certificate; both it and the remote-write exporter reach the backend at 127.0.0.1 while checking the certificate
   * against the configured server_name (the certificate names only that).
   */
  @Test
  void theExportersSpeakMutualTlsAndCheckTheConfiguredServerName() throws Exception {
    Certificates pki = new Certificates(tmp.resolve("pki"), "test-ca").serverNamed("backend", "jaeger.internal")
        .client("gateway", "telemetry-gateway");
    Vertx vertx = Vertx.vertx();
    OtlpSink backend = new OtlpSink(vertx, Ports.free()).tls(pki.cert("backend"), pki.key("backend"), pki.caCert())
        .start();
    java.util.List<String> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
    int promPort = Ports.free();
    io.vertx.core.http.HttpServer prometheus = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
        .setSsl(true).setHost("127.0.0.1").setPort(promPort).setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
            .setCertPath(pki.cert("backend").toString()).setKeyPath(pki.key("backend").toString()))
        .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(pki.caCert().toString()))
        .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED))
        .requestHandler(req -> req.body().onSuccess(b -> {
          writes.add(req.path() + " " + req.getHeader("Content-Encoding") + " " + req.getHeader("Host"));
          req.response().setStatusCode(204).end();
        }));
    prometheus.listen().await(10, TimeUnit.SECONDS);
    String tls = "\"tls\": {\"ca_file\": \"{{CA}}\", \"cert_file\": \"{{CERT}}\", \"key_file\": \"{{KEY}}\", "
        + "\"server_name\": \"jaeger.internal\"}";
    String config = """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"},
                                "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
         "exporters": {
           "jaeger": {"type": "otlp", "endpoint": "https://127.0.0.1:{{PORT}}", "batch": {"timeout": "5ms"}, TLS},
           "prometheus": {"type": "prometheus_remote_write", "endpoint": "https://127.0.0.1:{{PROM}}/api/v1/write",
                          "batch": {"timeout": "5ms"}, TLS}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]},
                       "metrics": {"receivers": ["otlp"], "exporters": ["prometheus"]}},
         "logging": {"level": "warn"}}""".replace("TLS", tls);
    try (GatewayHarness gw = GatewayHarness.start(config, Map.of("PORT", String.valueOf(backend.port()),
        "PROM", String.valueOf(promPort), "CA", pki.caCert().toString(), "CERT", pki.cert("gateway").toString(),
        "KEY", pki.key("gateway").toString()))) {
      assertThat(export(OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build(), "through")).isTrue();
      Await.until("the span at the mutual-TLS backend", Duration.ofSeconds(15),
          () -> backend.items(Signal.TRACES) == 1);
      assertThat(backend.clientSubjects).contains("CN=telemetry-gateway");
      io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest metric =
          io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
              io.opentelemetry.proto.metrics.v1.ResourceMetrics.newBuilder().addScopeMetrics(
                  io.opentelemetry.proto.metrics.v1.ScopeMetrics.newBuilder().addMetrics(
                      io.opentelemetry.proto.metrics.v1.Metric.newBuilder().setName("up").setGauge(
                          io.opentelemetry.proto.metrics.v1.Gauge.newBuilder().addDataPoints(
                              io.opentelemetry.proto.metrics.v1.NumberDataPoint.newBuilder().setAsDouble(1)
                                  .setTimeUnixNano(System.currentTimeMillis() * 1_000_000L)))))).build();
      java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(gw.httpBase() + "/v1/metrics"))
              .header("Content-Type", "application/x-protobuf")
              .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(metric.toByteArray())).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Await.until("a remote write over mutual TLS", Duration.ofSeconds(15), () -> !writes.isEmpty());
      assertThat(writes.get(0)).isEqualTo("/api/v1/write snappy jaeger.internal:" + promPort);
    } finally {
      prometheus.close().await(10, TimeUnit.SECONDS);
      backend.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  static boolean export(SpanExporter exporter, String name) {
    return dev.telemetry.gateway.testing.SdkExports.exportSpan(exporter, name);
  }

  static X509Certificate read(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** The server certificate a fresh TLS connection with this protocol gets; null when the handshake fails. */
  static X509Certificate handshake(Certificates pki, int port, String protocol) {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", read(pki.caCert()));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyStore id = KeyStore.getInstance("PKCS12");
      id.load(null, null);
      java.security.PrivateKey pk = java.security.KeyFactory.getInstance("EC").generatePrivate(
          new java.security.spec.PKCS8EncodedKeySpec(pem(pki.key("client"))));
      id.setKeyEntry("client", pk, new char[0], new java.security.cert.Certificate[] {read(pki.cert("client"))});
      javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
          javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(id, new char[0]);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
        s.setEnabledProtocols(new String[] {protocol});
        s.setSoTimeout(5000);
        s.startHandshake();
        return (X509Certificate) s.getSession().getPeerCertificates()[0];
      }
    } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
      return null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] pem(Path file) throws Exception {
    String text = Files.readString(file).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return java.util.Base64.getDecoder().decode(text);
  }
}
