package dev.telemetry.gateway.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Puts this member's event-bus subscriptions back into the cluster when the others lost them. When a member is
 * unreachable for a while (paused, partitioned) the others remove its subscriptions from Hazelcast's cluster-wide
 * map, and when it comes back (a split-brain merge) Vert.x does not publish them again (eclipse-vertx/vert.x#4394):
 * every forward, replica and announcement sent to it then fails with "No handlers" for as long as it runs.
 *
 * <p>Each second this member asks itself, through the cluster's view of subscriptions, on an address only it
 * consumes; NO_HANDLERS means its entries are gone, and it republishes all of them (the cluster manager's own
 * republish, which Vert.x otherwise only runs when a member is removed). Counted and logged.
 */
final class SubscriptionRepair extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(SubscriptionRepair.class.getName());
  static final String PROBE = "gateway.cluster.probe.";
  private static final long INTERVAL_MILLIS = 1000;

  private final HazelcastClusterManager manager;
  private final Counter repairs;
  private MessageConsumer<String> consumer;
  private long timer = -1;
  private boolean repairing;

  SubscriptionRepair(HazelcastClusterManager manager, MeterRegistry registry) {
    this.manager = manager;
    this.repairs = Counter.builder("gateway.cluster.subscriptions.republished").description("Times this member "
        + "found its event-bus subscriptions missing from the cluster (after being unreachable) and republished "
        + "them").register(registry);
  }

  @Override
  public Future<?> start() {
    String address = PROBE + manager.getNodeId();
    consumer = vertx.eventBus().consumer(address, m -> m.reply("ok"));
    timer = vertx.setPeriodic(INTERVAL_MILLIS, id -> probe(address));
    return consumer.completion();
  }

  private void probe(String address) {
    if (repairing) {
      return;
    }
    vertx.eventBus().request(address, "probe", new DeliveryOptions().setSendTimeout(INTERVAL_MILLIS * 2))
        .onFailure(e -> {
          if (e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
            repair();
          }
        });
  }

  private void repair() {
    repairing = true;
    vertx.executeBlocking(() -> {
      republish(manager);
      return null;
    }).onComplete(ar -> {
      repairing = false;
      if (ar.succeeded()) {
        repairs.increment();
        LOG.warning("cluster: this member's event-bus subscriptions were missing from the cluster (removed while it "
            + "was unreachable); republished them");
      } else {
        LOG.log(Level.SEVERE, "cluster: this member's event-bus subscriptions are missing from the cluster and "
            + "could not be republished; other members cannot reach it — restart it", ar.cause());
      }
    });
  }

  /**
   * The cluster manager's own republish of this node's subscriptions. Not public API: reached through its
   * subscription helper, which is (its {@code republishOwnSubs()} is public). Fails loudly if a Vert.x upgrade
   * changes that; {@code ClusterFaultsIT} and {@code ClusterPartitionIT} would then fail too.
   */
  static void republish(HazelcastClusterManager manager) throws ReflectiveOperationException {
    java.lang.reflect.Field f = HazelcastClusterManager.class.getDeclaredField("subsMapHelper");
    f.setAccessible(true);
    Object helper = f.get(manager);
    helper.getClass().getMethod("republishOwnSubs").invoke(helper);
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
