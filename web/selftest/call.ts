import { signInAnonymously } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, setLogLevel } from "firebase/firestore";
import { listenForCalls, startCall, type Call, type IncomingCall, firestoreSignaling, type CallState, type SignalingStore, createTurnClient } from "@webrtc-lite/client";
import { connectPageFirebase } from "./firebase";
import { selectedCandidatePair } from "./stats";

const element = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;
const me = element<HTMLOutputElement>("#me");
const calleeInput = element<HTMLInputElement>("#callee");
const callButton = element<HTMLButtonElement>("#call");
const hangUpButton = element<HTMLButtonElement>("#hangup");
const errorLine = element<HTMLParagraphElement>("#error");
const incomingList = element<HTMLUListElement>("#incoming");
const sessionOutput = element<HTMLOutputElement>("#session");
const stateOutput = element<HTMLOutputElement>("#state");
const pathOutput = element<HTMLOutputElement>("#path");
const messageInput = element<HTMLInputElement>("#message");
const sendButton = element<HTMLButtonElement>("#send");
const messages = element<HTMLUListElement>("#messages");
const warningList = element<HTMLUListElement>("#warnings");

let activeCall: Call | undefined;
let activeChannel: RTCDataChannel | undefined;

function showError(error: unknown): void {
  errorLine.textContent = error instanceof Error ? error.message : String(error);
}

/** Problems that leave the call running (e.g. a candidate of the other side that cannot be used). */
function showWarning(warning: Error): void {
  const item = document.createElement("li");
  item.textContent = warning.message;
  warningList.append(item);
}

// Each moment the page shows is stamped (epoch ms, one clock for every page of this browser),
// so that a test can measure dial → ring → connected → hang-up from the pages themselves.
function stamp(element: HTMLElement, name: string): void {
  element.dataset[name] = String(Date.now());
}

function describe(state: CallState): string {
  if (state.phase !== "ended") return state.phase;
  return state.error ? `ended (${state.reason}): ${state.error.message}` : `ended (${state.reason})`;
}

function useChannel(channel: RTCDataChannel): void {
  activeChannel = channel;
  channel.addEventListener("open", () => (sendButton.disabled = false));
  channel.addEventListener("close", () => (sendButton.disabled = true));
  channel.addEventListener("message", (event) => {
    const item = document.createElement("li");
    item.textContent = String(event.data);
    messages.append(item);
  });
}

function follow(call: Call, pc: RTCPeerConnection): void {
  sessionOutput.textContent = call.sessionId;
  hangUpButton.disabled = false;
  callButton.disabled = true;
  const render = (state: CallState): void => {
    stateOutput.textContent = describe(state);
    stateOutput.dataset.phase = state.phase;
    stamp(stateOutput, `${state.phase}At`);
    if (state.phase === "connected") {
      selectedCandidatePair(pc).then(
        (pair) => (pathOutput.textContent = pair ? `${pair.localType} to ${pair.remoteType} (${pair.protocol})` : "unknown"),
        showError,
      );
    }
    if (state.phase === "ended") {
      hangUpButton.disabled = true;
      callButton.disabled = false;
      sendButton.disabled = true;
    }
  };
  render(call.state);
  call.onStateChange(render);
}

const firstSeen = new Map<string, string>();

function renderIncoming(calls: IncomingCall[], answer: (call: IncomingCall) => Promise<void>): void {
  incomingList.replaceChildren(
    ...calls.map((incoming) => {
      const item = document.createElement("li");
      if (!firstSeen.has(incoming.sessionId)) firstSeen.set(incoming.sessionId, String(Date.now()));
      item.dataset.seenAt = firstSeen.get(incoming.sessionId);
      item.dataset.session = incoming.sessionId;
      item.dataset.caller = incoming.callerId;
      item.append(`Call from ${incoming.callerId} `);
      const answerButton = document.createElement("button");
      answerButton.className = "answer";
      answerButton.textContent = "Answer";
      answerButton.addEventListener("click", () => void answer(incoming));
      const rejectButton = document.createElement("button");
      rejectButton.className = "reject";
      rejectButton.textContent = "Reject";
      rejectButton.addEventListener("click", () => void incoming.reject().catch(showError));
      item.append(answerButton, " ", rejectButton);
      return item;
    }),
  );
}

async function main(): Promise<void> {
  const { app, auth, functions, emulators } = await connectPageFirebase();
  const firestore = getFirestore(app);
  // `?firestoreLog=debug` shows the SDK's stream errors and back-offs in the console (the tests read them).
  if (new URLSearchParams(location.search).get("firestoreLog") === "debug") setLogLevel("debug");
  if (emulators) {
    if (!emulators.firestore) throw new Error("emulators.json names no Firestore emulator: start the emulators with firestore for this page.");
    connectFirestoreEmulator(firestore, emulators.firestore.host, emulators.firestore.port);
  }
  const { user } = await signInAnonymously(auth);
  me.textContent = user.uid;
  const signaling = firestoreSignaling(firestore);
  // Stamps when the create batch leaves, so that a slow dial can be told apart: WebRTC and
  // credentials before it, Firestore after it.
  const store: SignalingStore = {
    ...signaling,
    createCall: (...args) => {
      stamp(callButton, "createSentAt");
      return signaling.createCall(...args);
    },
  };
  const turn = createTurnClient(functions);
  // Relay only: this page checks the TURN path, so a direct path must not hide a broken relay.
  const newPeerConnection = async (): Promise<RTCPeerConnection> =>
    new RTCPeerConnection({ iceServers: await turn.getIceServers(), iceTransportPolicy: "relay" });

  // An ICE restart makes new TURN allocations: it takes fresh credentials when these expire soon.
  const callOptions = { onWarning: showWarning, iceServers: () => turn.getIceServers() };

  callButton.disabled = false;
  const dial = async (): Promise<void> => {
    stamp(callButton, "clickedAt");
    errorLine.textContent = "";
    try {
      const pc = await newPeerConnection();
      useChannel(pc.createDataChannel("chat"));
      activeCall = await startCall(store, pc, { callerId: user.uid, calleeId: calleeInput.value.trim() }, callOptions);
      follow(activeCall, pc);
    } catch (error) {
      showError(error);
    }
  };
  callButton.addEventListener("click", () => void dial());

  listenForCalls(
    store,
    user.uid,
    (calls) =>
      renderIncoming(calls, async (incoming) => {
        errorLine.textContent = "";
        try {
          const pc = await newPeerConnection();
          pc.addEventListener("datachannel", (event) => useChannel(event.channel));
          activeCall = await incoming.answer(pc);
          follow(activeCall, pc);
        } catch (error) {
          showError(error);
        }
      }),
    showError,
    callOptions,
  );

  hangUpButton.addEventListener("click", () => {
    stamp(hangUpButton, "clickedAt");
    void activeCall?.hangUp().catch(showError);
  });
  sendButton.addEventListener("click", () => {
    activeChannel?.send(messageInput.value);
    messageInput.value = "";
  });
}

main().catch(showError);
