package dev.telemetry.gateway.analytics.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SeriesBookTest {
  @Test
  void aMembersRepeatedCellsAreBookedOnceAndGaugesTakeTheLargest() {
    SeriesBook a = new SeriesBook(10);
    SeriesBook b = new SeriesBook(10);
    Map<String, String> labels = Map.of("service_name", "checkout");
    a.add("red", "calls", labels, SeriesBook.Merge.SUM, null, 100, new double[] {10, 1});
    b.add("red", "calls", labels, SeriesBook.Merge.SUM, null, 100, new double[] {5, 0});
    b.merge("a", a.shared(100), 0);
    a.add("red", "calls", labels, SeriesBook.Merge.SUM, null, 100, new double[] {2, 1});
    b.merge("a", a.shared(100), 0); // says 12 / 2 now: only the change is booked
    b.merge("a", a.shared(100), 0); // a repeat changes nothing
    SeriesBook.Group g = b.groups().get(0);
    assertThat(b.cells(g, 100)).containsExactly(17, 2);

    a.add("q", "value", Map.of(), SeriesBook.Merge.MAX, null, 100, new double[] {7});
    b.add("q", "value", Map.of(), SeriesBook.Merge.MAX, null, 100, new double[] {3});
    b.merge("a", a.shared(100), 0);
    SeriesBook.Group q = b.groups().stream().filter(x -> x.stream.equals("q")).findFirst().orElseThrow();
    assertThat(b.cells(q, 100)).containsExactly(7);
  }

  @Test
  void aFullBookCountsNewGroupsAndForgetsSilentOnes() {
    SeriesBook book = new SeriesBook(1);
    assertThat(book.add("red", "calls", Map.of("s", "a"), SeriesBook.Merge.SUM, null, 1, new double[] {1, 0}))
        .isTrue();
    assertThat(book.add("red", "calls", Map.of("s", "b"), SeriesBook.Merge.SUM, null, 1, new double[] {1, 0}))
        .isFalse();
    assertThat(book.overflow()).isEqualTo(1);
    book.trim(0, 2);
    assertThat(book.size()).isZero();
  }
}
