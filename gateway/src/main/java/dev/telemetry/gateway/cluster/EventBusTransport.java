package dev.telemetry.gateway.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import java.util.List;

/**
 * Forwards over the clustered Vert.x event bus: request/reply to {@code gateway.cluster.forward.<node ID>}, one
 * encoded batch per message (see {@link ForwardCodec}). The reply is sent after the owner took the batch; a refusal
 * comes back as failure code 429. The event bus has no authentication of its own: keep its port (and Hazelcast's)
 * on a network only members reach.
 */
final class EventBusTransport implements ForwardTransport {
  static final String ADDRESS = "gateway.cluster.forward.";
  private static final int REFUSED = 429;
  private static final int REJECTED = 400;

  private final Vertx vertx;
  private final String self;
  private final boolean gzip;
  private final DeliveryOptions options;
  private MessageConsumer<Buffer> consumer;

  EventBusTransport(Vertx vertx, String self, boolean gzip, long timeoutMillis) {
    this.vertx = vertx;
    this.self = self;
    this.gzip = gzip;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
  }

  @Override
  public Future<Void> start(ForwardReceiver receiver) {
    consumer = vertx.eventBus().consumer(ADDRESS + self, msg -> {
      ForwardCodec.Batch batch;
      try {
        batch = ForwardCodec.decode(msg.body().getBytes());
      } catch (java.io.IOException | RuntimeException e) {
        msg.fail(REJECTED, "undecodable forwarded batch: " + e.getMessage());
        return;
      }
      receiver.accept(batch.origin(), batch.hops(), batch.parts()).onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(null);
        } else {
          msg.fail(ar.cause() instanceof ForwardRefusedException ? REFUSED : REJECTED, ar.cause().getMessage());
        }
      });
    });
    return consumer.completion();
  }

  @Override
  public Future<Void> send(String member, String origin, int hops, List<ForwardReceiver.Part> parts) {
    Buffer body = Buffer.buffer(ForwardCodec.encode(origin, hops, parts, gzip));
    return vertx.eventBus().request(ADDRESS + member, body, options).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture();
      }
      if (ar.cause() instanceof ReplyException re && re.failureCode() == REFUSED) {
        return Future.failedFuture(new ForwardRefusedException(re.getMessage()));
      }
      return Future.failedFuture(ar.cause());
    });
  }

  @Override
  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
