package dev.telemetry.gateway.pipeline;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.function.Function;

/**
 * Gives one exporter queue an event-loop context of its own: deploying a verticle is the public way to get a fresh
 * context, and Vert.x spreads deployments over the event loops.
 */
public final class ExporterVerticle extends VerticleBase {
  private final Function<Context, ExporterQueue> factory;
  private ExporterQueue queue;

  public ExporterVerticle(Function<Context, ExporterQueue> factory) {
    this.factory = factory;
  }

  @Override
  public Future<?> start() {
    queue = factory.apply(context);
    return queue.start();
  }

  /** The queue, available once the deployment has succeeded. */
  public ExporterQueue queue() {
    return queue;
  }
}
