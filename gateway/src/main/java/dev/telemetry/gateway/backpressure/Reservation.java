package dev.telemetry.gateway.backpressure;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Room held in a bounded component for one request — an exporter queue's items and bytes, a tail sampler's memory
 * budget, a cluster forwarder's bytes. Everything that can refuse data hands these out: {@code reserve(...)} either
 * returns one or throws {@link RefusedException}; the holder then commits it exactly once (the component takes the
 * request) or releases it (nothing was taken). Reserving first and committing after lets a request fanned out to
 * several components be taken by all of them or by none, so a client told "retry" never duplicates data.
 */
public interface Reservation {
  /** Hands the request over. Completes when the component has it (at once, or e.g. after a write-ahead log write). */
  Future<Void> commit();

  /** Gives the room back; the request was not taken. */
  void release();

  /** Nothing held: for a part that needs no room. */
  Reservation NONE = new Reservation() {
    @Override
    public Future<Void> commit() {
      return Future.succeededFuture();
    }

    @Override
    public void release() {
    }
  };

  /**
   * Reserves {@code count} parts in order, all or nothing: when part {@code i} refuses, the parts before it are
   * released and the refusal is rethrown. The result commits every part (completing when all have the request) or
   * releases every part.
   */
  static Reservation all(int count, IntFunction<Reservation> reserve) {
    if (count == 1) {
      return reserve.apply(0);
    }
    List<Reservation> held = new ArrayList<>(count);
    try {
      for (int i = 0; i < count; i++) {
        held.add(reserve.apply(i));
      }
    } catch (RuntimeException e) {
      held.forEach(Reservation::release);
      throw e;
    }
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        List<Future<Void>> pending = null;
        for (Reservation r : held) {
          Future<Void> f = r.commit();
          if (!f.succeeded()) {
            pending = pending == null ? new ArrayList<>(held.size()) : pending;
            pending.add(f);
          }
        }
        return pending == null ? Future.succeededFuture() : Future.all(pending).mapEmpty();
      }

      @Override
      public void release() {
        held.forEach(Reservation::release);
      }
    };
  }
}
