package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.telemetry.gateway.config.ClusterConfig.Compression;
import java.io.IOException;

/**
 * The cluster's forward codec on arbitrary bytes (what a peer — or anything that reaches the forward port — sends):
 * a batch or an IOException, within the inflate bound; a batch that decodes survives re-encoding (as it is, gzip
 * and snappy) unchanged.
 */
class ForwardCodecFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void decode(byte[] wire) throws IOException {
    ForwardCodec.Batch batch;
    try {
      batch = ForwardCodec.decode(wire);
    } catch (IOException expected) {
      return;
    }
    for (Compression c : Compression.values()) {
      ForwardCodec.Batch again = ForwardCodec.decode(ForwardCodec.encode(batch.origin(), batch.hops(), batch.parts(),
          c));
      assertThat(again.origin()).isEqualTo(batch.origin());
      assertThat(again.hops()).isEqualTo(batch.hops());
      assertThat(again.parts()).hasSameSizeAs(batch.parts());
      for (int i = 0; i < batch.parts().size(); i++) {
        ForwardReceiver.Part a = batch.parts().get(i);
        ForwardReceiver.Part b = again.parts().get(i);
        assertThat(b.sampler()).isEqualTo(a.sampler());
        assertThat(b.exporters()).isEqualTo(a.exporters());
        assertThat(b.request()).isEqualTo(a.request());
        assertThat(b.kind()).isEqualTo(a.kind());
      }
    }
  }
}
