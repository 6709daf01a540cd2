package dev.telemetry.gateway.receiver.otlp;

import com.google.protobuf.Message;
import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.otlp.Warmup;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * Runs the OTLP/HTTP receiver's request path over loopback before the gateway binds its ports: the HTTP server and
 * client of Vert.x and Netty, the receiver's handler (guard, body reading, decompression, wire scan, admission,
 * decoding, response) on {@link Warmup}'s synthetic requests. A just-started gateway otherwise answered its first
 * requests from interpreted code: 30–40 ms for the first one on a warm JDK 25 with its AOT cache, and the requests
 * behind it queued (docs/benchmarks.md, cold start).
 *
 * <p>Nothing it does is seen: it runs in a Vert.x of its own without metrics, on an ephemeral loopback port, with the
 * receiver's configuration but not its TLS, meters of its own, and a consumer that drops what it is handed — no
 * processor, sampler, queue, exporter or meter of the gateway's sees a synthetic item. That Vert.x is closed before
 * the receivers bind.
 */
public final class ReceiverWarmup {
  /** Requests sent at once: a few connections, as clients open them. */
  private static final int CONCURRENCY = 4;
  /** A warm-up that has not finished by then is given up: the start goes on, its code only colder. */
  private static final long TIMEOUT_SECONDS = 10;
  /** The JIT's work is the JVM's: once per process is enough (a process may start several gateways, as tests do). */
  private static final java.util.concurrent.atomic.AtomicBoolean DONE = new java.util.concurrent.atomic.AtomicBoolean();

  private ReceiverWarmup() {
  }

  /**
   * Sends {@code requests} requests through the receiver's HTTP path, the first time in this process; completes with
   * the number answered 200, or -1 when this process has warmed it already. Never on the caller's Vert.x.
   */
  public static Future<Integer> once(OtlpReceiverConfig config, int requests) {
    return DONE.compareAndSet(false, true) ? http(config, requests) : Future.succeededFuture(-1);
  }

  /** As {@link #once}, every time. */
  static Future<Integer> http(OtlpReceiverConfig config, int requests) {
    // Its own Vert.x, made on a thread of its own (not on the gateway's context); the outcome is handed back through
    // a promise bound to no context, completed once that Vert.x is closed.
    Promise<Integer> outcome = Promise.promise();
    Thread starter = new Thread(() -> {
      Vertx vertx;
      try {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
            .setInternalBlockingPoolSize(1));
      } catch (RuntimeException e) {
        outcome.fail(e);
        return;
      }
      Future<Integer> sent;
      try {
        sent = run(vertx, config, requests);
      } catch (RuntimeException e) {
        sent = Future.failedFuture(e);
      }
      sent.onComplete(ar -> vertx.close().onComplete(closed -> outcome.handle(ar)));
    }, "gateway-receiver-warmup");
    starter.setDaemon(true);
    starter.start();
    return outcome.future();
  }

  private static Future<Integer> run(Vertx vertx, OtlpReceiverConfig config, int requests) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OtlpIngest ingest = new OtlpIngest(config.name(), new Dropping(), new ReceiverMetrics(registry, config.name()),
        HeapLedger.unbounded());
    OtlpHttpReceiver receiver = new OtlpHttpReceiver(ingest, config);
    ConnectionGuard guard = new ConnectionGuard(vertx, config.limits(), registry, config.name(), "http");
    HttpServer server = vertx.createHttpServer(OtlpReceiver.serverOptions(
            new dev.telemetry.gateway.config.HostPort("127.0.0.1", 0), config.limits(), false))
        .requestHandler(req -> {
          if (guard.admit(req, () -> receiver.timedOut(req))) {
            receiver.handle(req);
          }
        });
    guard.attach(server);
    return server.listen()
        .compose(s -> send(vertx, s.actualPort(), requests))
        .timeout(TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static Future<Integer> send(Vertx vertx, int port, int requests) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(CONCURRENCY));
    Body[] bodies = Body.all();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    Promise<Integer> done = Promise.promise();
    AtomicInteger chains = new AtomicInteger(CONCURRENCY);
    for (int c = 0; c < CONCURRENCY; c++) {
      chain(client, port, bodies, requests, next, ok, () -> {
        if (chains.decrementAndGet() == 0) {
          done.complete(ok.get());
        }
      });
    }
    return done.future();
  }

  /** One request after another until {@code requests} have been sent in all chains; a failure ends nothing. */
  private static void chain(HttpClient client, int port, Body[] bodies, int requests, AtomicInteger next,
                            AtomicInteger ok, Runnable finished) {
    int i = next.getAndIncrement();
    if (i >= requests) {
      finished.run();
      return;
    }
    Body b = bodies[i % bodies.length];
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI(b.signal.httpPath()).putHeader("Content-Type", b.contentType);
    if (b.encoding != null) {
      options.putHeader("Content-Encoding", b.encoding);
    }
    client.request(options)
        .compose(req -> req.send(b.bytes))
        .compose(resp -> resp.body().map(body -> resp.statusCode()))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result() == 200) {
            ok.incrementAndGet();
          }
          chain(client, port, bodies, requests, next, ok, finished);
        });
  }

  /** A synthetic request as sent: mostly protobuf traces, as most clients send, then the other kinds. */
  private record Body(Signal signal, String contentType, String encoding, Buffer bytes) {
    static Body[] all() {
      Buffer traces = Buffer.buffer(Warmup.encodedTraces());
      Body protobufTraces = new Body(Signal.TRACES, OtlpHttpReceiver.PROTOBUF, null, traces);
      Body[] mix = new Body[10];
      java.util.Arrays.fill(mix, protobufTraces);
      mix[3] = protobuf(Signal.LOGS, Warmup.request(Signal.LOGS));
      mix[5] = protobuf(Signal.METRICS, Warmup.request(Signal.METRICS));
      mix[7] = new Body(Signal.TRACES, OtlpHttpReceiver.JSON, null,
          Buffer.buffer(OtlpJson.write(Warmup.request(Signal.TRACES))));
      mix[9] = new Body(Signal.TRACES, OtlpHttpReceiver.PROTOBUF, "gzip", Buffer.buffer(gzip(traces.getBytes())));
      return mix;
    }

    private static Body protobuf(Signal signal, Message request) {
      return new Body(signal, OtlpHttpReceiver.PROTOBUF, null, Buffer.buffer(request.toByteArray()));
    }

    private static byte[] gzip(byte[] bytes) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(out)) {
        z.write(bytes);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return out.toByteArray();
    }
  }

  /**
   * Takes everything and keeps nothing. Every other protobuf traces request it takes encoded, as a pipeline that
   * works on encoded spans does; the others it has decoded, as every other pipeline does.
   */
  private static final class Dropping implements TelemetryConsumer {
    private final AtomicInteger encoded = new AtomicInteger();

    @Override
    public boolean accepts(String receiver, Signal signal) {
      return true;
    }

    @Override
    public EncodedIntake consumeEncoded(String receiver, Signal signal, byte[] request, RequestHeaders headers) {
      return signal == Signal.TRACES && (encoded.getAndIncrement() & 1) == 0
          ? new EncodedIntake(0, Future.succeededFuture()) : null;
    }

    @Override
    public Future<Void> consume(String receiver, Signal signal, Message request, int items, int bytes,
                                RequestHeaders headers) {
      return Future.succeededFuture();
    }
  }
}
