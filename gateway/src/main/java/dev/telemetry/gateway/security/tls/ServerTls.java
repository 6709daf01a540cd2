package dev.telemetry.gateway.security.tls;

import dev.telemetry.gateway.config.TlsServerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * TLS for one listener: the server options built from its PEM files (mutual TLS when a client CA is set), the
 * listener's servers (one per event loop), and — every reload_interval — the files read again: a changed, valid pair
 * is installed on every server for new connections (connections already open keep theirs), an invalid one is
 * reported and the old pair stays. Publishes the certificate's expiry. Not thread-safe beyond {@link #register}.
 */
public final class ServerTls {
  private static final Logger LOG = Logger.getLogger(ServerTls.class.getName());

  private final String listener;
  private final TlsServerConfig config;
  private final MeterRegistry registry;
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private volatile Material current;
  private volatile double notAfterSeconds = Double.NaN;
  private long timer = -1;

  /** The files' contents, as last installed. */
  private record Material(Buffer cert, Buffer key, Buffer clientCa) {
  }

  /** Reads and checks the files now (the start fails with what is wrong in them). */
  public ServerTls(String listener, TlsServerConfig config, MeterRegistry registry) throws IOException {
    this.listener = listener;
    this.config = config;
    this.registry = registry;
    this.current = read();
    Gauge.builder("gateway.tls.certificate.expiry", this, t -> t.notAfterSeconds).baseUnit("seconds")
        .description("When the listener's certificate expires (Unix time; alert well before it)")
        .tag("listener", listener).register(registry);
  }

  public String listener() {
    return listener;
  }

  /** The server options with TLS on (ALPN for HTTP/2 when {@code alpn}). */
  public HttpServerOptions apply(HttpServerOptions options, boolean alpn) {
    Material m = current;
    options.setSsl(true).setUseAlpn(alpn).setKeyCertOptions(keyCert(m))
        .setEnabledSecureTransportProtocols(config.protocols());
    if (m.clientCa() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertValue(m.clientCa())).setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }

  private ServerSSLOptions sslOptions(Material m, boolean alpn) {
    ServerSSLOptions o = new ServerSSLOptions().setKeyCertOptions(keyCert(m)).setUseAlpn(alpn);
    o.setEnabledSecureTransportProtocols(config.protocols());
    if (m.clientCa() != null) {
      o.setTrustOptions(new PemTrustOptions().addCertValue(m.clientCa())).setClientAuth(ClientAuth.REQUIRED);
    }
    return o;
  }

  private static PemKeyCertOptions keyCert(Material m) {
    return new PemKeyCertOptions().setCertValue(m.cert()).setKeyValue(m.key());
  }

  /** A server of this listener (any thread): it gets every reloaded pair. */
  public void register(HttpServer server, boolean alpn) {
    servers.add(server);
    alpnByServer.put(server, alpn);
  }

  private final java.util.Map<HttpServer, Boolean> alpnByServer = new java.util.concurrent.ConcurrentHashMap<>();

  public void unregister(HttpServer server) {
    servers.remove(server);
    alpnByServer.remove(server);
  }

  /** Starts watching the files (when reload_interval is not zero). */
  public void watch(Vertx vertx) {
    if (!config.reloadInterval().isZero()) {
      timer = vertx.setPeriodic(config.reloadInterval().toMillis(), id -> vertx.executeBlocking(() -> {
        reloadNow();
        return null;
      }, true));
    }
  }

  public void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Reads the files; installs them when they changed and are valid. Blocking (file reads): a worker thread. */
  public Future<Boolean> reloadNow() {
    Material m;
    try {
      m = read();
    } catch (IOException | RuntimeException e) {
      count("rejected");
      LOG.warning("TLS files of " + listener + " changed but cannot be used; the previous certificate stays: " + e);
      return Future.succeededFuture(false);
    }
    Material before = current;
    if (before.equals(m)) {
      return Future.succeededFuture(false);
    }
    current = m;
    List<Future<Boolean>> updates = new ArrayList<>();
    for (HttpServer s : servers) {
      updates.add(s.updateSSLOptions(sslOptions(m, alpnByServer.getOrDefault(s, false)), true));
    }
    return Future.all(updates).map(v -> {
      count("applied");
      LOG.info("TLS certificate of " + listener + " reloaded (expires " + java.time.Instant.ofEpochSecond(
          (long) notAfterSeconds) + ")");
      return true;
    }).recover(e -> {
      count("rejected");
      LOG.warning("TLS certificate of " + listener + " could not be installed: " + e);
      return Future.succeededFuture(false);
    });
  }

  private void count(String result) {
    Counter.builder("gateway.tls.reloads").description("TLS certificate reloads from changed files, by result")
        .tag("listener", listener).tag("result", result).register(registry).increment();
  }

  /** Reads the three files and checks the certificate parses (its expiry becomes the gauge's value). */
  private Material read() throws IOException {
    Buffer cert = Buffer.buffer(Files.readAllBytes(config.certFile()));
    Buffer key = Buffer.buffer(Files.readAllBytes(config.keyFile()));
    Buffer ca = config.clientCaFile() == null ? null : Buffer.buffer(Files.readAllBytes(config.clientCaFile()));
    List<X509Certificate> chain = certificates(cert.getBytes(), config.certFile().toString());
    if (!new String(key.getBytes(), java.nio.charset.StandardCharsets.US_ASCII).contains("PRIVATE KEY-----")) {
      throw new IOException(config.keyFile() + ": not a PEM private key");
    }
    if (ca != null) {
      certificates(ca.getBytes(), config.clientCaFile().toString());
    }
    notAfterSeconds = chain.get(0).getNotAfter().getTime() / 1000.0;
    return new Material(cert, key, ca);
  }

  static List<X509Certificate> certificates(byte[] pem, String file) throws IOException {
    try {
      Collection<? extends java.security.cert.Certificate> all = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem));
      List<X509Certificate> out = new ArrayList<>();
      all.forEach(c -> out.add((X509Certificate) c));
      if (out.isEmpty()) {
        throw new IOException(file + ": no certificate in it");
      }
      return out;
    } catch (CertificateException e) {
      throw new IOException(file + ": not a PEM certificate: " + e.getMessage());
    }
  }
}
