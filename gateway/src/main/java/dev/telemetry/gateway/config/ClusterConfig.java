package dev.telemetry.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * Clustered mode: the gateway joins a Hazelcast cluster through Vert.x's cluster manager and tail-samples each trace
 * on the one member the trace-ID ring names. Absent from the config, the gateway runs standalone.
 *
 * <p>{@code bind} is where Hazelcast listens, {@code eventBus} where the Vert.x event bus listens (port 0: any free
 * port, members learn it from the cluster); {@code advertiseHost} is the address other members use (a pod IP when
 * binding 0.0.0.0). A member silent for {@code failureTimeout} is declared dead and its traces go to the others;
 * {@code leaveTimeout} bounds a graceful leave's hand-over. Each undecided trace is held by its owner and the next
 * {@code replicationFactor - 1} members on the ring, so that many minus one can crash without losing it.
 * {@code minMembers}: below that many ready members on its ring (a minority after a partition, or a member that was
 * paused past the failure timeout and finds itself alone) a member refuses traces and reports not ready, so that
 * clients and load balancers move to the majority instead of splitting traces between two rings; 1 (the default)
 * keeps every member serving whatever it sees.
 */
public record ClusterConfig(String name, HostPort bind, String advertiseHost, Discovery discovery, HostPort eventBus,
                            int virtualNodes, Forwarding forwarding, Duration leaveTimeout,
                            Duration failureTimeout, int replicationFactor, TlsServerConfig eventBusTls,
                            int minMembers) {
  public static final String DEFAULT_NAME = "telemetry-gateway";
  public static final HostPort DEFAULT_BIND = new HostPort("127.0.0.1", 5701);
  public static final int DEFAULT_VIRTUAL_NODES = 128;
  public static final Duration DEFAULT_LEAVE_TIMEOUT = Duration.ofSeconds(20);
  public static final Duration DEFAULT_FAILURE_TIMEOUT = Duration.ofSeconds(10);
  /** Owner plus one ring successor hold every undecided trace: one member can crash without losing any. */
  public static final int DEFAULT_REPLICATION_FACTOR = 2;
  public static final int MAX_REPLICATION_FACTOR = 5;
  public static final int MAX_MIN_MEMBERS = 1000;

  /** Without event bus TLS. */
  public ClusterConfig(String name, HostPort bind, String advertiseHost, Discovery discovery, HostPort eventBus,
                       int virtualNodes, Forwarding forwarding, Duration leaveTimeout, Duration failureTimeout,
                       int replicationFactor) {
    this(name, bind, advertiseHost, discovery, eventBus, virtualNodes, forwarding, leaveTimeout, failureTimeout,
        replicationFactor, null, 1);
  }

  public ClusterConfig {
    if (eventBusTls != null && eventBusTls.clientCaFile() == null) {
      throw new IllegalArgumentException("event_bus_tls.client_ca_file: required — members prove themselves to "
          + "each other with certificates of this CA (mutual TLS)");
    }
    if (virtualNodes < 1 || virtualNodes > 4096) {
      throw new IllegalArgumentException("virtual_nodes: 1-4096");
    }
    if (replicationFactor < 1 || replicationFactor > MAX_REPLICATION_FACTOR) {
      throw new IllegalArgumentException("replication_factor: 1-" + MAX_REPLICATION_FACTOR);
    }
    if (minMembers < 1 || minMembers > MAX_MIN_MEMBERS) {
      throw new IllegalArgumentException("min_members: 1-" + MAX_MIN_MEMBERS);
    }
    if (discovery instanceof TcpDiscovery tcp && minMembers > tcp.members().size()) {
      throw new IllegalArgumentException("min_members: " + minMembers + " is more than the " + tcp.members().size()
          + " members in discovery.members — no member could ever take traces; use a majority of them (e.g. "
          + (tcp.members().size() / 2 + 1) + ")");
    }
  }

  /** The host other members reach this one at. */
  public String advertisedHost() {
    return advertiseHost != null ? advertiseHost : bind.host();
  }

  /** How members find each other. */
  public sealed interface Discovery permits TcpDiscovery, KubernetesDiscovery {
  }

  /** A fixed member list, {@code host:port} of Hazelcast (bare metal, VMs, loopback tests). */
  public record TcpDiscovery(List<String> members) implements Discovery {
    public TcpDiscovery {
      members = List.copyOf(members);
      if (members.isEmpty()) {
        throw new IllegalArgumentException("members: list at least one member (this one may be in it)");
      }
    }
  }

  /**
   * Kubernetes: members are the ready pods behind a (headless) service, found through the Kubernetes API
   * ({@code serviceName} in {@code namespace}) or DNS ({@code serviceDns}).
   */
  public record KubernetesDiscovery(String namespace, String serviceName, String serviceDns) implements Discovery {
    public KubernetesDiscovery {
      if ((serviceName == null) == (serviceDns == null)) {
        throw new IllegalArgumentException("set exactly one of service_name (Kubernetes API) and service_dns (DNS)");
      }
    }
  }

  /** How spans travel to the member that owns their trace. */
  public enum Transport { EVENT_BUS, OTLP_GRPC }

  /**
   * How forwarded spans are compressed: {@code SNAPPY} (event bus only; about a third of gzip's CPU for ~1.25× the
   * bytes) is sent only to members that announce they read it, others get gzip.
   */
  public enum Compression { NONE, GZIP, SNAPPY }

  /**
   * {@code maxBytes} bounds what waits to be forwarded (all peers together; beyond it clients are told to retry),
   * {@code batchMaxBytes}/{@code batchTimeout} shape batches, {@code timeout} bounds one send. With
   * {@code otlp_grpc}, spans go to the owner's OTLP/gRPC receiver {@code receiver} and carry {@code token}, which
   * every member must share.
   */
  public record Forwarding(Transport transport, long maxBytes, long batchMaxBytes, Duration batchTimeout,
                           Duration timeout, Compression compression, String receiver, String token, boolean tls,
                           TlsClientConfig clientTls) {
    public static final long DEFAULT_MAX_BYTES = 64L << 20;
    public static final long DEFAULT_BATCH_MAX_BYTES = 512L << 10;
    public static final Duration DEFAULT_BATCH_TIMEOUT = Duration.ofMillis(5);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    /** Plaintext forwarding. */
    public Forwarding(Transport transport, long maxBytes, long batchMaxBytes, Duration batchTimeout, Duration timeout,
                      Compression compression, String receiver, String token) {
      this(transport, maxBytes, batchMaxBytes, batchTimeout, timeout, compression, receiver, token, false,
          TlsClientConfig.DEFAULTS);
    }

    public Forwarding {
      if (transport == Transport.OTLP_GRPC && (token == null || token.length() < 16)) {
        throw new IllegalArgumentException("token: otlp_grpc forwarding needs a shared token of at least 16 "
            + "characters (generate one with `openssl rand -hex 32`)");
      }
      if (transport == Transport.OTLP_GRPC && receiver == null) {
        throw new IllegalArgumentException("receiver: name the OTLP receiver (with a grpc endpoint) members send to");
      }
      if (transport == Transport.OTLP_GRPC && compression == Compression.SNAPPY) {
        throw new IllegalArgumentException("compression: otlp_grpc forwarding sends gzip or none (snappy is for the "
            + "event_bus transport)");
      }
      if (batchMaxBytes > maxBytes) {
        throw new IllegalArgumentException("batch_max_bytes: must not exceed max_bytes");
      }
    }

    @Override
    public String toString() {
      return "Forwarding[transport=" + transport + ", maxBytes=" + maxBytes + ", batchMaxBytes=" + batchMaxBytes
          + ", batchTimeout=" + batchTimeout + ", timeout=" + timeout + ", compression=" + compression
          + ", receiver=" + receiver + ", token=" + (token == null ? "none" : "(set)") + ", tls=" + tls + "]";
    }
  }
}
