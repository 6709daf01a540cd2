package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.loadtest.OtlpPayloads;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures the heap a queued request really costs per encoded byte, per signal: requests are decoded exactly as the
 * receivers do (protobuf parse) and held as a memory exporter queue holds them; after full GCs the retained heap
 * divided by their encoded bytes is the factor the heap ledger charges them at.
 *
 * <pre>java -cp load-tests/target/benchmarks.jar dev.telemetry.gateway.pipeline.HeapPerQueuedByteProbe [requests]</pre>
 */
public final class HeapPerQueuedByteProbe {
  private HeapPerQueuedByteProbe() {
  }

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    for (Signal signal : Signal.values()) {
      byte[][] payloads = OtlpPayloads.encoded(signal, false, requests, 100, 11);
      long before = usedAfterGc();
      List<QueuedRequest> held = new ArrayList<>(requests);
      long encoded = 0;
      for (byte[] p : payloads) {
        Message m = signal.parseRequest(p);
        held.add(new QueuedRequest(m, 100, p.length, System.nanoTime()));
        encoded += p.length;
      }
      payloads = null;
      long after = usedAfterGc();
      System.out.println(new JsonObject().put("signal", signal.id()).put("requests", held.size())
          .put("encoded_bytes_per_request", encoded / requests).put("retained_heap_mib", (after - before) >> 20)
          .put("heap_bytes_per_encoded_byte", Math.round((after - before) * 100.0 / encoded) / 100.0).encode());
      held.clear();
    }
  }

  static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
