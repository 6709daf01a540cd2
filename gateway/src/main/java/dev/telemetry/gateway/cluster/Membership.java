package dev.telemetry.gateway.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Which members take part in tail sampling, and the ring over them. A member is on the ring while it is in the
 * Hazelcast cluster <em>and</em> has declared itself ready (its pipelines run); one that is leaving gracefully
 * declares so first and drops off every ring before it stops. States live in a cluster-wide map; a change is
 * announced on the event bus and, as a backstop, every member re-reads the map each second. Listeners run on this
 * verticle's context, one change at a time.
 */
public final class Membership extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(Membership.class.getName());
  static final String STATES = "gateway.cluster.members";
  static final String CHANGED = "gateway.cluster.changed";
  static final String SYNC = "gateway.cluster.sync.";
  private static final String READY = "ready";
  private static final String LEAVING = "leaving";

  private final HazelcastClusterManager manager;
  private final int virtualNodes;
  private final List<Consumer<HashRing>> listeners = new CopyOnWriteArrayList<>();
  private final Counter changes;
  private volatile HashRing ring;
  private volatile boolean leaving;
  private volatile boolean ready;
  /** Members seen leaving gracefully (they hand their traces over themselves); others that vanish crashed. */
  private final Set<String> seenLeaving = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private AsyncMap<String, String> states;
  private long timer = -1;
  private String self;
  private java.util.UUID listenerId;

  public Membership(HazelcastClusterManager manager, int virtualNodes, MeterRegistry registry) {
    this.manager = manager;
    this.virtualNodes = virtualNodes;
    this.ring = new HashRing(List.of(), virtualNodes);
    Gauge.builder("gateway.cluster.members", () -> ring.members().size())
        .description("Members on the trace-ID ring (in the cluster and ready)").register(registry);
    Gauge.builder("gateway.cluster.ring.share", () -> self == null ? 0 : ring.share(self))
        .description("Fraction of trace IDs this member owns").register(registry);
    changes = Counter.builder("gateway.cluster.ring.changes").description("Times the ring's members changed")
        .register(registry);
  }

  /** This member's node ID. */
  public String self() {
    return self;
  }

  /** The current ring (read once per request). */
  public HashRing ring() {
    return ring;
  }

  /** True once this member announced it is leaving. */
  public boolean leaving() {
    return leaving;
  }

  /** True when {@code member} was seen leaving gracefully (any thread); false for one that vanished (crashed). */
  public boolean leftGracefully(String member) {
    return seenLeaving.contains(member);
  }

  /** Called on this verticle's context with every new ring. */
  public void onChange(Consumer<HashRing> listener) {
    listeners.add(listener);
  }

  @Override
  public Future<?> start() {
    self = manager.getNodeId();
    vertx.eventBus().<String>consumer(CHANGED, m -> refresh());
    vertx.eventBus().<String>consumer(SYNC + self, m -> refresh().onComplete(ar -> m.reply("ok")));
    listenerId = manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        context.runOnContext(v -> refresh());
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        context.runOnContext(v -> refresh());
      }
    });
    timer = vertx.setPeriodic(1000, id -> refresh());
    return vertx.sharedData().<String, String>getClusterWideMap(STATES).compose(map -> {
      states = map;
      return refresh();
    });
  }

  /** Puts this member on the ring (its pipelines are running) and tells the others. */
  public Future<Void> ready() {
    ready = true;
    return states.put(self, READY).compose(v -> announce());
  }

  /**
   * Takes this member off the ring and waits until every other member has re-read the states (so none forwards
   * here any more), up to {@code timeoutMillis}; then the caller hands its buffers over.
   */
  public Future<Void> leave(long timeoutMillis) {
    leaving = true;
    return states.put(self, LEAVING).compose(v -> {
      publish();
      List<Future<?>> synced = new ArrayList<>();
      for (String node : manager.getNodes()) {
        if (!node.equals(self)) {
          synced.add(vertx.eventBus().request(SYNC + node, "leaving", new DeliveryOptions()
              .setSendTimeout(timeoutMillis)).recover(e -> {
                LOG.warning("member " + node + " did not confirm this member's leave: " + e.getMessage());
                return Future.succeededFuture();
              }));
        }
      }
      return Future.join(synced).<Void>mapEmpty();
    }).compose(v -> refresh());
  }

  private Future<Void> announce() {
    publish();
    return refresh();
  }

  private void publish() {
    vertx.eventBus().publish(CHANGED, self);
  }

  /** Re-reads members and states; installs and announces a new ring when it differs. */
  Future<Void> refresh() {
    if (states == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    states.entries().onComplete(ar -> {
      if (ar.failed()) {
        LOG.fine("cluster member states not readable now: " + ar.cause());
        done.complete();
        return;
      }
      Set<String> live = new HashSet<>(manager.getNodes());
      List<String> members = new ArrayList<>();
      if (ready && !leaving && !READY.equals(ar.result().get(self))) {
        // The cluster map lost this member's state: Hazelcast keeps one backup, so members dying in quick
        // succession can take an entry's owner and backup with them. Say it again rather than drop off the ring.
        LOG.warning("this member's ready state was missing from the cluster map (members lost in quick "
            + "succession); declaring it again");
        states.put(self, READY).onSuccess(v -> publish());
        members.add(self);
      }
      for (Map.Entry<String, String> e : ar.result().entrySet()) {
        if (live.contains(e.getKey()) && LEAVING.equals(e.getValue()) && seenLeaving.size() < 100_000) {
          seenLeaving.add(e.getKey());
        }
        if (live.contains(e.getKey()) && READY.equals(e.getValue()) && !(leaving && e.getKey().equals(self))) {
          members.add(e.getKey());
        } else if (!live.contains(e.getKey()) && isJanitor(live)) {
          states.remove(e.getKey()); // a crashed member's state; its node ID never comes back
        }
      }
      HashRing next = new HashRing(members, virtualNodes);
      if (!next.members().equals(ring.members())) {
        LOG.info("cluster ring changed: " + ring.members().size() + " -> " + next.members().size() + " member(s) "
            + next.members() + (next.members().contains(self) ? "" : " (this member is not on it)"));
        ring = next;
        changes.increment();
        for (Consumer<HashRing> l : listeners) {
          try {
            l.accept(next);
          } catch (RuntimeException e) {
            LOG.log(java.util.logging.Level.WARNING, "ring listener failed", e);
          }
        }
      }
      done.complete();
    });
    return done.future();
  }

  /** One member (the smallest ID) cleans up the states of members that are gone. */
  private boolean isJanitor(Set<String> live) {
    return live.stream().sorted().findFirst().map(self::equals).orElse(false);
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (listenerId != null) {
      try {
        manager.getHazelcastInstance().getCluster().removeMembershipListener(listenerId);
      } catch (RuntimeException e) {
        LOG.fine("membership listener not removed: " + e);
      }
    }
    return Future.succeededFuture();
  }
}
