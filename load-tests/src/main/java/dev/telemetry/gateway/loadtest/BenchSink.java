package dev.telemetry.gateway.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The trace backend of the side-by-side benchmark as its own process (so its CPU is not counted as the gateway's):
 * an OTLP/gRPC server on one event loop that accepts every export and counts the items; prints the count each
 * second to stdout. Usage: {@code BenchSink PORT}.
 */
public final class BenchSink {
  private BenchSink() {
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    AtomicLong items = new AtomicLong();
    SaturationBenchmark.startSink(vertx, port, items);
    System.out.println("listening " + port);
    vertx.setPeriodic(1000, id -> System.out.println("items " + items.get()));
  }
}
