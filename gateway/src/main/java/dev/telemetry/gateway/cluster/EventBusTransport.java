package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.config.ClusterConfig.Compression;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Forwards over the clustered Vert.x event bus: request/reply to {@code gateway.cluster.forward.<node ID>}, one
 * encoded batch per message (see {@link ForwardCodec}). The reply is sent after the owner took the batch; a refusal
 * comes back as failure code 429. Snappy goes only to members whose cluster metadata says they read it
 * ({@link #SNAPPY_KEY}); older members, mid-upgrade, get gzip. The event bus has no authentication of its own: keep
 * its port (and Hazelcast's) on a network only members reach.
 */
final class EventBusTransport implements ForwardTransport {
  static final String ADDRESS = "gateway.cluster.forward.";
  /** Cluster metadata a member publishes when it reads snappy-compressed batches. */
  static final String SNAPPY_KEY = "forward_snappy";
  private static final int REFUSED = 429;
  private static final int REJECTED = 400;

  private final Vertx vertx;
  private final String self;
  private final ClusterManager manager;
  private final Compression compression;
  private final DeliveryOptions options;
  /** What each member gets (a node ID's metadata never changes; a restarted member has a new ID). */
  private final Map<String, Compression> byMember = new ConcurrentHashMap<>();
  private MessageConsumer<Buffer> consumer;

  EventBusTransport(Vertx vertx, ClusterManager manager, String self, Compression compression, long timeoutMillis) {
    this.vertx = vertx;
    this.manager = manager;
    this.self = self;
    this.compression = compression;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
  }

  /** The compression a member with this cluster metadata gets when this one is configured with {@code wanted}. */
  static Compression compressionFor(Compression wanted, JsonObject metadata) {
    boolean readsSnappy = metadata != null && metadata.getBoolean(SNAPPY_KEY, false);
    return wanted == Compression.SNAPPY && !readsSnappy ? Compression.GZIP : wanted;
  }

  private Future<Compression> compression(String member) {
    Compression known = byMember.get(member);
    if (known != null || compression != Compression.SNAPPY) {
      return Future.succeededFuture(known != null ? known : compression);
    }
    Promise<NodeInfo> info = Promise.promise();
    manager.getNodeInfo(member, info);
    return info.future().map(ni -> {
      Compression c = compressionFor(compression, ni == null ? null : ni.metadata());
      byMember.put(member, c);
      return c;
    });
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
    return compression(member).compose(c -> vertx.eventBus().request(ADDRESS + member,
        Buffer.buffer(ForwardCodec.encode(origin, hops, parts, c)), options)).transform(ar -> {
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
