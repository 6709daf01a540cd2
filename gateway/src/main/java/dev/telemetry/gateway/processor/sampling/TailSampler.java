package dev.telemetry.gateway.processor.sampling;

import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.telemetry.gateway.otlp.TraceKey;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.processor.Downstream;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Tail sampling: buffers spans per trace ID and keeps or drops each trace whole, once, {@code decision_wait} after
 * its first span. All state lives on the sampler's own event-loop context; receivers only reserve budget (an atomic
 * counter) and hand the request over.
 *
 * <p>Memory: every buffered span is charged {@link #charge(Span)} bytes against {@code memory_budget}. Past 90% the
 * oldest traces are decided early (counted); at 100% new requests are refused with back-pressure. Decided traces the
 * exporter queues cannot take yet stay charged and are offered again, so nothing is dropped silently. Late spans
 * follow their trace's remembered decision (bounded caches of sampled and not-sampled IDs).
 */
public final class TailSampler extends VerticleBase implements SamplingStage {
  private static final Logger LOG = Logger.getLogger(TailSampler.class.getName());
  private final dev.telemetry.gateway.logging.RateLimitedLog journalLog = new dev.telemetry.gateway.logging
      .RateLimitedLog(LOG, 10_000);

  private final TailSamplingProcessorConfig config;
  private final List<Policies.Evaluator> policies;
  private final java.util.Set<String> attributeKeys;
  private final boolean keepSpanNames;
  private final AtomicLong charged = new AtomicLong();
  /** What the sampler holds is charged here too, so that it counts against the process's one memory limit. */
  private final HeapLedger heap;
  private final MeterRegistry registry;
  private final Map<String, Counter> decisionCounters = new ConcurrentHashMap<>();
  private final Counter earlyDecisions;
  private final Counter lateSampled;
  private final Counter lateDropped;
  private final Counter sampledTraces;
  private final Counter droppedTraces;
  private final Counter refused;
  private final Counter handedOff;
  private final Counter restoredSpans;
  private final Counter adoptedSpans;
  private final Counter duplicateSpans;
  private Downstream downstream;
  /**
   * Told of every decision, on the sampler's context (a cluster releases the trace's replicas, connectors take
   * exemplars from kept traces); added before start.
   */
  private final List<DecisionListener> decisions = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Set before start when the sampler's buffer must survive a crash (its pipeline has persistent queues). */
  private SamplerJournal journal;

  // Confined to the sampler's context.
  private final LinkedHashMap<TraceKey, Trace> traces = new LinkedHashMap<>();
  private final LinkedHashMap<TraceKey, Boolean> decided;
  private final int decidedCapacity;
  private final Deque<Pending> pendingEmission = new ArrayDeque<>();
  private long tick = -1;
  /** Traces first seen before this (nanoTime) are not decided before it: hand-overs may still join them. */
  private long holdNewUntil = Long.MIN_VALUE;
  private volatile double budgetShare = 1.0;
  private volatile int bufferedTraces;
  /** Spans the journal kept for the next start at the last flush (see {@link #journaledAtShutdown()}). */
  private volatile long journaledAtShutdown;
  private static final long[] NO_RECORDS = new long[0];

  public TailSampler(TailSamplingProcessorConfig config, MeterRegistry registry) {
    this(config, registry, HeapLedger.unbounded());
  }

  public TailSampler(TailSamplingProcessorConfig config, MeterRegistry registry, HeapLedger heap) {
    this.config = config;
    this.heap = heap;
    this.registry = registry;
    this.policies = config.policies().stream().map(p -> p.compile(() -> budgetShare)).toList();
    this.attributeKeys = config.attributeKeys();
    this.keepSpanNames = config.policies().stream().anyMatch(SamplingPolicy::readsSpanNames);
    this.decidedCapacity = config.sampledCacheSize() + config.notSampledCacheSize();
    this.decided = new LinkedHashMap<>(1024, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<TraceKey, Boolean> eldest) {
        return size() > decidedCapacity;
      }
    };
    String p = config.name();
    earlyDecisions = counter("gateway.processor.tail_sampling.early_decisions", "Traces decided before "
        + "decision_wait because the memory budget was nearly used", p, null);
    lateSampled = counter("gateway.processor.tail_sampling.late_spans", "Spans that arrived after their trace "
        + "was decided", p, "sampled");
    lateDropped = counter("gateway.processor.tail_sampling.late_spans", "Spans that arrived after their trace "
        + "was decided", p, "not_sampled");
    sampledTraces = counter("gateway.processor.tail_sampling.traces", "Decided traces", p, "sampled");
    droppedTraces = counter("gateway.processor.tail_sampling.traces", "Decided traces", p, "not_sampled");
    refused = counter("gateway.processor.tail_sampling.refused_spans", "Spans refused because the memory budget "
        + "was used up (the client was told to retry)", p, null);
    handedOff = counter("gateway.processor.tail_sampling.handed_off_traces", "Undecided traces handed to the "
        + "cluster member that owns them now (membership changed, or this member left)", p, null);
    restoredSpans = counter("gateway.processor.tail_sampling.restored_spans", "Spans buffered again from the "
        + "sampler's write-ahead log at start (acknowledged, undecided or not yet queued at the last stop or crash)",
        p, null);
    adoptedSpans = counter("gateway.processor.tail_sampling.adopted_spans", "Spans taken over from a crashed "
        + "cluster member's replicas (this member became their traces' owner)", p, null);
    duplicateSpans = counter("gateway.processor.tail_sampling.duplicate_spans", "Spans dropped because their "
        + "trace already held them (a taken-over replica and a retried forward of the same span)", p, null);
    Gauge.builder("gateway.processor.tail_sampling.buffered.traces", () -> bufferedTraces)
        .description("Traces waiting for a decision").tag("processor", p).register(registry);
    Gauge.builder("gateway.processor.tail_sampling.buffered.size", charged::get).baseUnit("bytes")
        .description("Bytes charged against memory_budget").tag("processor", p).register(registry);
  }

  private Counter counter(String name, String description, String processor, String decision) {
    Counter.Builder b = Counter.builder(name).description(description).tag("processor", processor);
    if (decision != null) {
      b.tag("decision", decision);
    }
    return b.register(registry);
  }

  /** Tells {@code listener} of every trace this sampler decides, on its context; added before start. */
  public void addDecisionListener(DecisionListener listener) {
    decisions.add(listener);
  }

  /**
   * Undecided traces that start within {@code nanos} from now wait at least until then: after a membership change,
   * the previous owner's hand-over of a trace may arrive after the new owner saw the trace's first fresh span.
   */
  public void holdNewTraces(long nanos) {
    long until = System.nanoTime() + nanos;
    onContext(() -> holdNewUntil = Math.max(holdNewUntil, until));
  }

  /**
   * Takes over spans another member held (any thread): charged beyond the budget (they were acknowledged), merged
   * into their traces without duplicating a span the trace already has, and decided no earlier than
   * {@code deadlineNanos}. For a crashed owner's replicas, whose spans may also arrive again as retried forwards.
   */
  public void adopt(ExportTraceServiceRequest request, Destination destination, long deadlineNanos) {
    List<Incoming> incoming = incoming(request, destination);
    long cost = 0;
    for (Incoming in : incoming) {
      cost += in.entry().bytes();
    }
    charged.addAndGet(cost);
    heap.charge(cost);
    adoptedSpans.increment(incoming.size());
    onContext(() -> insert(incoming, -1, deadlineNanos, true));
  }

  /** Where sampled traces go; set once by the pipeline before start. */
  public void downstream(Downstream downstream) {
    this.downstream = downstream;
  }

  /**
   * Makes the buffer durable: requests are written to {@code journal} before they are acknowledged, and
   * {@link #restore} replays what a crash or stop left. Set once, before start.
   */
  public void journal(SamplerJournal journal) {
    this.journal = journal;
    Gauge.builder("gateway.processor.tail_sampling.journal.disk.size", journal::diskBytes).baseUnit("bytes")
        .description("Bytes of the tail sampler's write-ahead log on disk").tag("processor", config.name())
        .register(registry);
  }

  /**
   * Opens the journal (if any) and buffers again the traces it still holds, each with what was left of its
   * decision_wait; {@code destinations} resolves a route's exporter names as the pipeline does now. Call after the
   * pipelines are up and before receivers open.
   */
  public Future<Void> restore(java.util.function.Function<List<String>, Destination> destinations) {
    if (journal == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    long[] spans = new long[1];
    context.runOnContext(v -> journal.replay(record -> spans[0] += restore(record, destinations)).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      SamplerJournal.Recovered r = ar.result();
      restoredSpans.increment(spans[0]);
      if (spans[0] > 0 || r.tornRecords() > 0 || r.unreadable() > 0) {
        LOG.info("tail sampler " + config.name() + ": restored " + spans[0] + " spans of " + r.records()
            + " acknowledged trace records from the write-ahead log in " + journal.directory()
            + (r.tornRecords() > 0 ? "; discarded " + r.tornRecords() + " torn record(s) (never acknowledged)" : "")
            + (r.unreadable() > 0 ? "; skipped " + r.unreadable() + " unreadable record(s)" : ""));
      }
      done.complete();
    }));
    return done.future();
  }

  /**
   * Estimated heap of a buffered span: its encoded bytes plus the entry, the kept facts and the map slot.
   * Calibrated with HeapPerSpanProbe (load-tests).
   */
  public static long charge(Span s) {
    return charge(s.getSerializedSize());
  }

  /** {@link #charge(Span)} of a span whose encoding has {@code encodedBytes} bytes. */
  static long charge(int encodedBytes) {
    return encodedBytes + 240L;
  }

  public java.time.Duration decisionWait() {
    return config.decisionWait();
  }

  public long memoryBudgetBytes() {
    return config.memoryBudgetBytes();
  }

  public long chargedBytes() {
    return charged.get();
  }

  /** Traces waiting for a decision. */
  public int bufferedTraceCount() {
    return bufferedTraces;
  }

  @Override
  public Future<?> start() {
    long every = Math.max(10, Math.min(100, config.decisionWait().toMillis() / 4));
    tick = vertx.setPeriodic(every, id -> onTick());
    return Future.succeededFuture();
  }

  /** Buffers one replayed record again, charged beyond the budget if need be (it was acknowledged). */
  private int restore(SamplerJournal.Restored record, java.util.function.Function<List<String>, Destination> destinations) {
    Destination d = Destination.DEFAULT;
    if (record.exporters() != null) {
      try {
        d = destinations.apply(record.exporters());
      } catch (RuntimeException e) {
        journalLog.log(java.util.logging.Level.WARNING, "restore-destination", "tail sampler " + config.name()
            + ": restored spans were routed to " + record.exporters() + ", which this configuration does not have ("
            + e.getMessage() + "); they go to the pipeline's exporters instead");
      }
    }
    long cost = 0;
    for (ResourceSpans rs : record.request().getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          cost += charge(s);
        }
      }
    }
    charged.addAndGet(cost);
    heap.charge(cost);
    long waitLeft = Math.max(0, record.receivedMillis() + config.decisionWait().toMillis()
        - System.currentTimeMillis());
    List<Incoming> incoming = incoming(record.request(), d);
    if (record.kept()) {
      // Decided and kept before the stop: emitted again as it was decided, not decided a second time.
      List<Trace.Entry> entries = new ArrayList<>(incoming.size());
      for (Incoming in : incoming) {
        decided.put(TraceKey.of(in.traceId()), true);
        entries.add(in.entry());
      }
      journal.hold(record.seq(), 1);
      emit(entries, new long[] {record.seq()}, false);
      return incoming.size();
    }
    return insert(incoming, record.seq(), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitLeft));
  }

  /**
   * Takes a request (any thread) for the default downstream. Fails with {@link RefusedException}, having taken
   * nothing, when the budget is used up.
   */
  public Future<Void> accept(ExportTraceServiceRequest request) {
    try {
      return reserve(request, Destination.DEFAULT).commit();
    } catch (RefusedException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public Reservation reserve(ExportTraceServiceRequest request, Destination destination) {
    int spans = spanCount(request);
    refuseIfJournalFull(request.getSerializedSize(), spans);
    long cost = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          cost += charge(s);
        }
      }
    }
    long charged = chargeOrRefuse(cost, spans);
    // The spans are encoded for the buffer at commit, on the receiver's event loop, not on the sampler's one context.
    return reservation(() -> incoming(request, destination), destination, charged);
  }

  /**
   * Reads a traces request that is still encoded — spans another member forwarded — into buffer entries without
   * decoding its spans (see {@link EncodedSpans}); any thread.
   */
  public EncodedSpans read(ByteString request, Destination destination) throws InvalidProtocolBufferException {
    return EncodedSpans.read(request, attributeKeys, keepSpanNames, destination);
  }

  /**
   * Reads a traces request as a client sent it, still encoded, each span and resource through {@code processors}
   * (see {@link EncodedSpans}); null when a span has an ID no backend can use (decode that request instead). Any
   * thread.
   */
  public EncodedSpans readReceived(ByteString request, List<dev.telemetry.gateway.processor.EncodedSpanProcessor>
      processors) throws InvalidProtocolBufferException {
    return EncodedSpans.read(request, attributeKeys, keepSpanNames, Destination.DEFAULT, processors, true);
  }

  /** As {@link #reserve(ExportTraceServiceRequest, Destination)} for spans {@link #read} from their encoding. */
  public Reservation reserve(EncodedSpans spans) {
    refuseIfJournalFull(spans.encodedBytes, spans.spanCount());
    long cost = 0;
    for (Incoming in : spans.spans) {
      cost += in.entry().bytes();
    }
    return reservation(() -> spans.spans, spans.destination, chargeOrRefuse(cost, spans.spanCount()));
  }

  private Reservation reservation(java.util.function.Supplier<List<Incoming>> incoming, Destination destination,
                                  long cost) {
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        return TailSampler.this.commit(incoming.get(), destination, cost);
      }

      @Override
      public void release() {
        TailSampler.this.release(cost);
      }
    };
  }

  private void refuseIfJournalFull(long bytes, int spans) {
    SamplerJournal j = journal;
    if (j != null && j.wouldExceed(bytes, config.memoryBudgetBytes())) {
      refused.increment(spans);
      throw new RefusedException(RefusedException.Reason.QUEUE_FULL, "tail sampler \"" + config.name()
          + "\": its write-ahead log is at its bound (memory_budget on disk); retry later");
    }
  }

  /**
   * Charges {@code cost} bytes of {@code spans} spans against the sampler's budget and the heap ledger (any thread)
   * and returns it; throws {@link RefusedException}, having charged nothing, when either is used up.
   */
  private long chargeOrRefuse(long cost, int spans) {
    long after = charged.addAndGet(cost);
    boolean overBudget = after > config.memoryBudgetBytes() && after != cost;
    if (overBudget || !heap.tryCharge(cost)) {
      charged.addAndGet(-cost);
      refused.increment(spans);
      if (overBudget) {
        context.runOnContext(v -> relieve());
        throw new RefusedException(RefusedException.Reason.QUEUE_FULL, "tail sampler \"" + config.name()
            + "\" is at its memory budget (" + config.memoryBudgetBytes() + " bytes); retry later");
      }
      throw heap.full();
    }
    return cost;
  }

  void release(long cost) {
    uncharge(cost);
  }

  /** Data the sampler held has left it (dropped, handed on, handed off): its charges are freed. */
  private void uncharge(long bytes) {
    charged.addAndGet(-bytes);
    heap.free(bytes);
  }

  /**
   * Buffers a reserved request's spans; kept ones go to {@code destination}. With a journal the request is on disk
   * before the returned future succeeds (the client's success); if it cannot be written the client is refused with a
   * retryable error and nothing is buffered.
   */
  private Future<Void> commit(List<Incoming> incoming, Destination destination, long cost) {
    SamplerJournal j = journal;
    if (j == null) {
      context.runOnContext(v -> insert(incoming, -1, System.nanoTime() + config.decisionWait().toNanos()));
      return Future.succeededFuture();
    }
    List<List<Incoming>> traces = Incoming.byTrace(incoming);
    return j.append(destination.exporters(), System.currentTimeMillis(), traces).transform(ar -> {
      if (ar.failed()) {
        // Nothing of it is buffered or acknowledged (records written before the failure are replayed after a
        // restart and decided then: a retried request may then be kept twice, never lost).
        uncharge(cost);
        journalLog.log(java.util.logging.Level.SEVERE, "wal", "tail sampler " + config.name() + ": "
            + ar.cause().getMessage() + "; refusing spans until the write-ahead log works again");
        return Future.failedFuture(new RefusedException(RefusedException.Reason.NOT_READY, "tail sampler \""
            + config.name() + "\" cannot write to disk; retry later"));
      }
      long[] seqs = ar.result();
      context.runOnContext(v -> {
        long deadline = System.nanoTime() + config.decisionWait().toNanos();
        for (int i = 0; i < seqs.length; i++) {
          insert(traces.get(i), seqs[i], deadline);
        }
      });
      return Future.succeededFuture();
    });
  }

  /**
   * Runs what a decoded request costs the sampler — its spans sized and encoded as buffer entries on the receiving
   * event loop; later, each trace judged by the policies and a kept trace's request rebuilt — and discards the
   * result: for the warm-up before ready. The policies are compiled afresh for it (a rate budget spent here is not
   * this sampler's); nothing is buffered, decided, counted or emitted. Returns the spans.
   */
  public int warmUp(ExportTraceServiceRequest request) {
    List<Incoming> spans = incoming(request, Destination.DEFAULT);
    List<Policies.Evaluator> fresh = config.policies().stream().map(p -> p.compile(() -> budgetShare)).toList();
    long now = System.nanoTime();
    for (List<Incoming> group : Incoming.byTrace(spans)) {
      Trace t = new Trace(group.get(0).traceId(), now);
      group.forEach(in -> t.add(in.entry()));
      for (Policies.Evaluator p : fresh) {
        p.evaluate(t, now);
      }
      rebuild(t.entries).getSerializedSize();
    }
    return spans.size();
  }

  /** A request's spans as buffer entries, with their trace IDs (any thread: it reads only final fields). */
  private List<Incoming> incoming(ExportTraceServiceRequest request, Destination destination) {
    List<Incoming> out = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          out.add(new Incoming(s.getTraceId(), Trace.Entry.of(rs.getResource(), rs.getSchemaUrl(), ss.getScope(),
              ss.getSchemaUrl(), s, attributeKeys, keepSpanNames, charge(s), destination)));
        }
      }
    }
    return out;
  }

  private static int spanCount(ExportTraceServiceRequest r) {
    int n = 0;
    for (ResourceSpans rs : r.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- sampler context from here on

  /** Buffers a request's spans; package-private for the benchmark, which calls it from one thread. */
  void insert(ExportTraceServiceRequest request) {
    insert(request, Destination.DEFAULT);
  }

  private void insert(ExportTraceServiceRequest request, Destination destination) {
    insert(incoming(request, destination), -1, System.nanoTime() + config.decisionWait().toNanos());
  }

  /**
   * Buffers spans whose traces are due for a decision at {@code deadlineNanos} (unless already buffered);
   * {@code seq} is their journal record, or -1 without a journal. Returns the span count.
   */
  private int insert(List<Incoming> incoming, long seq, long deadlineNanos) {
    return insert(incoming, seq, deadlineNanos, false);
  }

  /** {@code dedupe}: the traces these spans start remember their spans, so a second copy of one is dropped. */
  private int insert(List<Incoming> incoming, long seq, long deadlineNanos, boolean dedupe) {
    List<Trace.Entry> lateKept = null;
    java.util.Set<ByteString> lateKeptTraces = null;
    int units = 0;
    for (Incoming in : incoming) {
      Trace.Entry e = in.entry();
      ByteString id = in.traceId();
      TraceKey key = TraceKey.of(id);
      Boolean earlier = decided.get(key);
      if (earlier != null) {
        if (earlier) {
          lateSampled.increment();
          if (lateKept == null) {
            lateKept = new ArrayList<>();
            lateKeptTraces = new java.util.HashSet<>();
          }
          lateKept.add(e);
          lateKeptTraces.add(id);
        } else {
          lateDropped.increment();
          uncharge(e.bytes());
        }
        continue;
      }
      Trace t = traces.get(key);
      if (t == null) {
        t = new Trace(id, Math.max(deadlineNanos, holdNewUntil));
        traces.put(key, t);
      }
      if (dedupe) {
        t.dedupe();
      }
      if (t.seen != null && !t.seen.add(e.encoded())) {
        duplicateSpans.increment();
        uncharge(e.bytes());
        continue;
      }
      t.add(e);
      if (seq >= 0 && t.heldBy(seq)) {
        units++;
      }
    }
    bufferedTraces = traces.size();
    long[] lateRecords = NO_RECORDS;
    if (seq >= 0) {
      int lateUnits = lateKeptTraces == null ? 0 : lateKeptTraces.size();
      // Held once per trace it carries; a request of late spans that were all dropped is done at once.
      journal.hold(seq, units + lateUnits + 1);
      journal.release(seq);
      if (lateUnits > 0) {
        lateRecords = new long[lateUnits];
        java.util.Arrays.fill(lateRecords, seq);
      }
    }
    if (lateKept != null) {
      emit(lateKept, lateRecords);
    }
    if (charged.get() > config.memoryBudgetBytes() * 9 / 10) {
      relieve();
    }
    return incoming.size();
  }

  /** A trace left the sampler (dropped, or taken by every destination, or handed off): its records are released. */
  private void released(long[] records) {
    for (long seq : records) {
      journal.release(seq);
    }
  }

  /** Decides the oldest traces until charged bytes are under 80% of the budget (or nothing is left to decide). */
  private void relieve() {
    Iterator<Map.Entry<TraceKey, Trace>> it = traces.entrySet().iterator();
    while (charged.get() > config.memoryBudgetBytes() * 8 / 10 && it.hasNext()) {
      Map.Entry<TraceKey, Trace> e = it.next();
      it.remove();
      earlyDecisions.increment();
      decide(e.getKey().id(), e.getValue(), System.nanoTime());
    }
    bufferedTraces = traces.size();
  }

  private void onTick() {
    long now = System.nanoTime();
    Iterator<Map.Entry<TraceKey, Trace>> it = traces.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<TraceKey, Trace> e = it.next();
      if (e.getValue().deadlineNanos > now) {
        break; // insertion order is deadline order: the rest are younger
      }
      it.remove();
      decide(e.getKey().id(), e.getValue(), now);
    }
    bufferedTraces = traces.size();
    retryPending();
  }

  private void decide(ByteString id, Trace trace, long now) {
    boolean sample = false;
    boolean veto = false;
    for (Policies.Evaluator p : policies) {
      Decision d = p.evaluate(trace, now);
      decisionCounters.computeIfAbsent(p.name() + "|" + d, k -> Counter.builder(
          "gateway.processor.tail_sampling.policy_decisions").description("Policy verdicts by policy")
          .tag("processor", config.name()).tag("policy", p.name()).tag("decision", d.name().toLowerCase())
          .register(registry)).increment();
      if (d == Decision.DROP || d == Decision.INVERT_NOT_SAMPLE) {
        veto = true;
      } else if (d == Decision.SAMPLE) {
        sample = true;
      }
    }
    boolean keep = sample && !veto;
    decided.put(TraceKey.of(id), keep);
    if (!decisions.isEmpty()) {
      java.util.function.Supplier<List<DecisionListener.DecidedSpan>> spans = () -> {
        List<DecisionListener.DecidedSpan> out = new ArrayList<>(trace.entries.size());
        for (Trace.Entry e : trace.entries) {
          out.add(new DecisionListener.DecidedSpan(e.resource(), e.name(), e.kind(), e.statusCode(), e.encoded()));
        }
        return out;
      };
      for (DecisionListener l : decisions) {
        l.decided(id, keep, spans);
      }
    }
    if (keep) {
      sampledTraces.increment();
      emit(trace.entries, trace.records());
    } else {
      droppedTraces.increment();
      uncharge(trace.bytes);
      if (trace.recordCount > 0) {
        released(trace.records());
      }
    }
  }

  /**
   * Rebuilds one request per destination (grouped by resource and scope) and offers them; held and retried if the
   * queues are full.
   */
  private void emit(List<Trace.Entry> entries, long[] records) {
    emit(entries, records, true);
  }

  /** {@code mark}: write a kept marker for {@code records} (not when they are replayed as already kept). */
  private void emit(List<Trace.Entry> entries, long[] records, boolean mark) {
    if (mark && records.length > 0) {
      journal.kept(records);
    }
    Map<Downstream, List<Trace.Entry>> byDestination = new java.util.IdentityHashMap<>(2);
    for (Trace.Entry e : entries) {
      Downstream d = e.destination().downstream();
      byDestination.computeIfAbsent(d == null ? downstream : d, k -> new ArrayList<>(entries.size())).add(e);
    }
    Taken taken = records.length == 0 ? null : new Taken(records, byDestination.size());
    byDestination.forEach((destination, list) -> pendingEmission.addLast(new Pending(list, bytes(list),
        destination, taken)));
    retryPending();
  }

  /** Counts the destinations of one emission down; when all have taken their spans, the records are released. */
  private final class Taken {
    private final long[] records;
    private int left;

    Taken(long[] records, int destinations) {
      this.records = records;
      this.left = destinations;
    }

    void one() {
      if (--left == 0) {
        released(records);
      }
    }
  }

  private static long bytes(List<Trace.Entry> entries) {
    long bytes = 0;
    for (Trace.Entry e : entries) {
      bytes += e.bytes();
    }
    return bytes;
  }

  /** One request holding the entries, grouped by resource and scope again. */
  private static ExportTraceServiceRequest rebuild(List<Trace.Entry> entries) {
    Map<Object, Map<Object, List<Trace.Entry>>> grouped = new LinkedHashMap<>();
    for (Trace.Entry e : entries) {
      grouped.computeIfAbsent(List.of(e.resource(), e.resourceSchemaUrl()), k -> new LinkedHashMap<>())
          .computeIfAbsent(List.of(e.scope(), e.scopeSchemaUrl()), k -> new ArrayList<>()).add(e);
    }
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (Map<Object, List<Trace.Entry>> byScope : grouped.values()) {
      Trace.Entry first = byScope.values().iterator().next().get(0);
      ResourceSpans.Builder rs = ResourceSpans.newBuilder().setResource(first.resource())
          .setSchemaUrl(first.resourceSchemaUrl());
      for (List<Trace.Entry> scoped : byScope.values()) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(scoped.get(0).scope())
            .setSchemaUrl(scoped.get(0).scopeSchemaUrl());
        for (Trace.Entry e : scoped) {
          ss.addSpans(e.span());
        }
        rs.addScopeSpans(ss);
      }
      req.addResourceSpans(rs);
    }
    return req.build();
  }

  /**
   * A kept trace's spans for one destination, still encoded and still charged until that destination took them:
   * while the queues are full they cost what buffered spans cost, and the request is built only when there is room.
   */
  private record Pending(List<Trace.Entry> entries, long bytes, Downstream destination, Taken taken) {
    /** The rebuilt request's encoded size, near enough for the queues' byte bounds. */
    int encodedBytes() {
      long n = 0;
      for (Trace.Entry e : entries) {
        n += e.encoded().size() + 4;
      }
      return (int) Math.min(Integer.MAX_VALUE, n + 128);
    }
  }

  private void retryPending() {
    while (!pendingEmission.isEmpty()) {
      Pending p = pendingEmission.peekFirst();
      Future<Void> f = p.destination().offer(() -> rebuild(p.entries()), p.entries().size(), p.encodedBytes());
      if (f.failed()) {
        return; // queues full: keep it (still charged) and try on the next tick
      }
      pendingEmission.pollFirst();
      uncharge(p.bytes());
      if (p.taken() != null) {
        // Released once the queues have it (a persistent queue: in its own log); if that write fails, the journal
        // keeps the records and a restart replays them.
        f.onSuccess(x -> onContext(p.taken()::one));
      }
    }
  }

  /**
   * Graceful shutdown: hands kept traces on, up to a timeout. Without a journal everything still buffered is decided
   * first; with one, undecided traces stay in the journal undecided (a restart buffers them again with the wait they
   * had left, so late spans still join them) and so do kept traces the queues could not take in time.
   */
  public Future<Void> flush(long timeoutMillis) {
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    context.runOnContext(v -> {
      if (journal == null) {
        decideAll();
      } else if (tick >= 0) {
        vertx.cancelTimer(tick); // no more decisions: what is buffered now is what the journal keeps
        tick = -1;
      }
      awaitEmitted(done, deadline);
    });
    return done.future();
  }

  /** Spans this sampler's journal keeps for the next start after {@link #flush} (0 without a journal). */
  public long journaledAtShutdown() {
    return journaledAtShutdown;
  }

  /** Decides every buffered trace now (shutdown; the benchmark). */
  void decideAll() {
    long now = System.nanoTime();
    List<Map.Entry<TraceKey, Trace>> all = new ArrayList<>(traces.entrySet());
    traces.clear();
    bufferedTraces = 0;
    for (Map.Entry<TraceKey, Trace> e : all) {
      decide(e.getKey().id(), e.getValue(), now);
    }
  }

  private void awaitEmitted(Promise<Void> done, long deadline) {
    retryPending();
    if (pendingEmission.isEmpty()) {
      if (journal != null) {
        keepPendingAtShutdown(); // counts and names what the journal keeps
      }
      done.tryComplete();
    } else if (System.nanoTime() > deadline) {
      keepPendingAtShutdown();
      done.tryComplete();
    } else {
      vertx.setTimer(50, id -> awaitEmitted(done, deadline));
    }
  }

  /**
   * Kept traces the queues could not take before the shutdown timeout: they were acknowledged, so persistent queues
   * take them beyond their bounds; what memory queues cannot take is counted and said.
   */
  private void keepPendingAtShutdown() {
    if (journal != null) {
      long waiting = 0;
      while (!pendingEmission.isEmpty()) {
        Pending p = pendingEmission.pollFirst();
        waiting += p.entries().size();
        uncharge(p.bytes());
      }
      long undecided = 0;
      for (Trace t : traces.values()) {
        undecided += t.spanCount();
      }
      journaledAtShutdown = waiting + undecided;
      LOG.info("tail sampler " + config.name() + ": " + undecided + " spans of undecided traces and " + waiting
          + " kept spans the exporter queues had no room for stay in the write-ahead log in " + journal.directory()
          + " for the next start");
      return;
    }
    int spans = 0;
    long lost = 0;
    while (!pendingEmission.isEmpty()) {
      Pending p = pendingEmission.pollFirst();
      spans += p.entries().size();
      lost += p.destination().keepAtShutdown(() -> rebuild(p.entries()), p.entries().size(), p.encodedBytes());
      uncharge(p.bytes());
    }
    if (lost == 0) {
      LOG.info("tail sampler " + config.name() + ": " + spans + " kept spans found no room in the exporter queues "
          + "before the shutdown timeout; written to the persistent queues beyond their bounds");
    } else {
      LOG.warning("tail sampler " + config.name() + ": " + spans + " kept spans found no room in the exporter "
          + "queues before the shutdown timeout; " + lost + " of them were for memory queues and are lost "
          + "(gateway_exporter_items_failed_total{reason=\"shutdown\"}); persistent queues keep theirs");
    }
  }

  @Override
  public Future<?> stop() {
    if (tick >= 0) {
      vertx.cancelTimer(tick);
    }
    return journal == null ? Future.succeededFuture() : journal.close();
  }

  /**
   * The fraction of the configured rate budgets (rate_limiting, composite) this sampler may spend: in a cluster, the
   * share of the trace-ID ring this member owns.
   */
  public void budgetShare(double share) {
    if (!(share >= 0 && share <= 1)) {
      throw new IllegalArgumentException("share must be in [0, 1]: " + share);
    }
    this.budgetShare = share;
  }

  public double budgetShare() {
    return budgetShare;
  }

  /** Undecided spans handed to another member: one request per destination. */
  public record Handoff(ExportTraceServiceRequest request, Destination destination, int spans) {
  }

  /**
   * Takes every undecided trace whose ID {@code stays} rejects out of the buffer (membership changed and another
   * member owns it now, or this one is leaving) and returns their spans, one request per destination, no longer
   * charged here. Traces already decided are not affected; late spans of them still follow the decision.
   */
  public Future<List<Handoff>> handOff(java.util.function.Predicate<ByteString> stays) {
    Promise<List<Handoff>> out = Promise.promise();
    context.runOnContext(v -> {
      Map<Destination, List<Trace.Entry>> byDestination = new java.util.IdentityHashMap<>(2);
      Iterator<Map.Entry<TraceKey, Trace>> it = traces.entrySet().iterator();
      int moved = 0;
      while (it.hasNext()) {
        Map.Entry<TraceKey, Trace> e = it.next();
        if (stays.test(e.getKey().id())) {
          continue;
        }
        it.remove();
        moved++;
        uncharge(e.getValue().bytes);
        if (e.getValue().recordCount > 0) {
          released(e.getValue().records()); // the new owner holds them now
        }
        for (Trace.Entry entry : e.getValue().entries) {
          byDestination.computeIfAbsent(entry.destination(), k -> new ArrayList<>()).add(entry);
        }
      }
      bufferedTraces = traces.size();
      handedOff.increment(moved);
      List<Handoff> list = new ArrayList<>(byDestination.size());
      byDestination.forEach((d, entries) -> list.add(new Handoff(rebuild(entries), d, entries.size())));
      out.complete(list);
    });
    return out.future();
  }

  private void onContext(Runnable r) {
    if (io.vertx.core.Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  /** The sampler's context, available once deployed. */
  Context context() {
    return context;
  }
}
