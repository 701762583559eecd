package webrtclite.emulator;

import java.lang.classfile.AccessFlags;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Set;

/**
 * The Java agent of the Firestore emulator's launcher JAR (its Launcher-Agent-Class): makes
 * grpc-java's server-side response observer send one message at a time.
 *
 * <p>The emulator answers a Listen stream from two threads with no lock between them: the thread
 * that reads the client's request (adding a target sends ADD, the documents, CURRENT) and the
 * thread of any commit that changes a target the same stream already watches. grpc-java's
 * StreamObserver is not thread-safe, so the two messages' bytes can interleave; the client then
 * reads a bogus length prefix and drops the stream (grpc-js: "Received message larger than
 * max"), and the Firestore SDK waits up to a minute before it listens again, every listener of
 * that client silent meanwhile. Marking the observer's onNext, onError and onCompleted
 * synchronized serializes them per call, which is what grpc-java asks of its callers. Each holds
 * the lock only while grpc-java frames a message and queues it for the transport.
 */
public final class SerializedStreamResponses {
  /** grpc-java's StreamObserver behind every server call (io.grpc.stub.ServerCalls). */
  private static final String OBSERVER = "io/grpc/stub/ServerCalls$ServerCallStreamObserverImpl";

  /** The observer's methods that send on the call. */
  private static final Set<String> SENDS = Set.of("onNext", "onError", "onCompleted");

  private SerializedStreamResponses() {}

  /** Installs the transformer before the emulator's main method runs. */
  public static void agentmain(String arguments, Instrumentation instrumentation) {
    instrumentation.addTransformer(new ClassFileTransformer() {
      @Override
      public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
        if (!OBSERVER.equals(className)) return null;
        try {
          byte[] serialized = synchronizeSends(bytes);
          System.err.println("webrtc-lite agent: " + className + " sends one message at a time (" + SENDS + " synchronized)");
          return serialized;
        } catch (RuntimeException | Error failure) {
          // A transformer's exception is swallowed by the JVM: say it, or the race comes back unseen.
          System.err.println("webrtc-lite agent: could not serialize " + className + ": " + failure);
          return null;
        }
      }
    });
  }

  private static byte[] synchronizeSends(byte[] bytes) {
    ClassFile classFile = ClassFile.of();
    return classFile.transformClass(classFile.parse(bytes), ClassTransform.transformingMethods(
        method -> SENDS.contains(method.methodName().stringValue()),
        (method, element) -> {
          if (element instanceof AccessFlags flags) method.withFlags(flags.flagsMask() | ClassFile.ACC_SYNCHRONIZED);
          else method.with(element);
        }));
  }
}
