package webrtclite.emulator;

import java.lang.classfile.AccessFlags;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.FieldModel;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.TypeKind;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The Java agent of the Firestore emulator's launcher JAR (its Launcher-Agent-Class): keeps
 * each Listen stream's messages whole and in order.
 *
 * <p>The emulator answers a Listen stream from two threads with no lock between them: the thread
 * that reads the client's request (adding a target sends ADD, the documents read for it, CURRENT)
 * and the thread of any commit that changes a target the stream watches. Two things go wrong:
 *
 * <ul>
 *   <li>grpc-java's StreamObserver is not thread-safe, so two messages' bytes can interleave; the
 *       client reads a bogus length prefix and drops the stream (grpc-js: "Received message larger
 *       than max"), and the Firestore SDK waits up to a minute before it listens again, every
 *       listener of that client silent meanwhile. The observer's onNext, onError and onCompleted
 *       become synchronized, which is what grpc-java asks of its callers.
 *   <li>Adding a target registers it with the ListenStreamManager (under the manager's lock) but
 *       sends what it read afterwards, outside it: a commit in between sends its change first,
 *       and then the older read (after a RESET, when the client resumes) replaces it, so the
 *       listener never holds that write. The stream's addTarget now runs whole under the
 *       manager's lock, as a commit's notifyListeners does, so a commit comes before it (and is
 *       in what it reads) or after it (and is sent after its CURRENT).
 * </ul>
 */
public final class SerializedStreamResponses {
  /** grpc-java's StreamObserver behind every server call (io.grpc.stub.ServerCalls). */
  private static final String OBSERVER = "io/grpc/stub/ServerCalls$ServerCallStreamObserverImpl";

  /** The observer's methods that send on the call. */
  private static final Set<String> SENDS = Set.of("onNext", "onError", "onCompleted");

  /** The emulator's Firestore Listen stream. */
  private static final String LISTEN_STREAM = "com/google/cloud/datastore/emulator/impl/firestore/CloudFirestoreV1ListenStream";

  /** The stream's method that adds a target, its field holding the manager, and the name its original body moves to. */
  private static final String ADD_TARGET = "addTarget";
  private static final String MANAGER_FIELD = "manager";
  private static final String ADD_TARGET_UNLOCKED = "addTargetWithoutManagerLock";

  /** What a class becomes, and what the agent prints once it has. */
  private record Change(UnaryOperator<byte[]> transform, String report) {}

  private static final Map<String, Change> CHANGES = Map.of(
      OBSERVER, new Change(SerializedStreamResponses::synchronizeSends,
          "sends one message at a time (" + String.join(", ", new TreeSet<>(SENDS)) + " synchronized)"),
      LISTEN_STREAM, new Change(SerializedStreamResponses::addTargetUnderManagerLock,
          "adds each target whole under the ListenStreamManager's lock"));

  private SerializedStreamResponses() {}

  /** Installs the transformer before the emulator's main method runs. */
  public static void agentmain(String arguments, Instrumentation instrumentation) {
    instrumentation.addTransformer(new ClassFileTransformer() {
      @Override
      public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
        Change change = CHANGES.get(className);
        if (change == null) return null;
        try {
          byte[] transformed = change.transform().apply(bytes);
          System.err.println("webrtc-lite agent: " + className + " " + change.report());
          return transformed;
        } catch (RuntimeException | Error failure) {
          // A transformer's exception is swallowed by the JVM: say it, or the race comes back unseen.
          System.err.println("webrtc-lite agent: could not transform " + className + ": " + failure);
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

  /**
   * Moves addTarget's body to a private method of another name and makes addTarget call it
   * inside {@code synchronized (this.manager)}.
   */
  private static byte[] addTargetUnderManagerLock(byte[] bytes) {
    ClassFile classFile = ClassFile.of();
    ClassModel model = classFile.parse(bytes);
    ClassDesc self = model.thisClass().asSymbol();
    ClassDesc managerType = model.fields().stream()
        .filter(field -> field.fieldName().equalsString(MANAGER_FIELD))
        .map(FieldModel::fieldTypeSymbol)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no field " + MANAGER_FIELD));
    if (model.methods().stream().noneMatch(method -> method.methodName().equalsString(ADD_TARGET) && method.methodTypeSymbol().returnType().descriptorString().equals("V"))) {
      throw new IllegalStateException("no void method " + ADD_TARGET);
    }
    return classFile.transformClass(model, (builder, element) -> {
      if (!(element instanceof MethodModel method) || !method.methodName().equalsString(ADD_TARGET)) {
        builder.with(element);
        return;
      }
      MethodTypeDesc type = method.methodTypeSymbol();
      int flags = method.flags().flagsMask();
      builder.withMethod(ADD_TARGET_UNLOCKED, type, flags, original -> method.forEach(original));
      builder.withMethodBody(ADD_TARGET, type, flags, code -> {
        int lock = code.allocateLocal(TypeKind.REFERENCE);
        int thrown = code.allocateLocal(TypeKind.REFERENCE);
        Label start = code.newLabel();
        Label end = code.newLabel();
        Label handler = code.newLabel();
        code.aload(0).getfield(self, MANAGER_FIELD, managerType).dup().astore(lock).monitorenter();
        code.labelBinding(start);
        code.aload(0);
        for (int index = 0; index < type.parameterCount(); index += 1) {
          code.loadLocal(TypeKind.from(type.parameterType(index)), code.parameterSlot(index));
        }
        code.invokespecial(self, ADD_TARGET_UNLOCKED, type);
        code.labelBinding(end);
        code.aload(lock).monitorexit().return_();
        code.labelBinding(handler);
        code.astore(thrown).aload(lock).monitorexit().aload(thrown).athrow();
        code.exceptionCatchAll(start, end, handler);
      });
    });
  }
}
