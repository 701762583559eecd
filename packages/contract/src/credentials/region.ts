/** The region `getTurnCredentials` and the triggers are deployed in; clients call the callable there. */
export const FUNCTIONS_REGION = "us-central1";

/** The callable's name, exactly as deployed: clients pass it to `httpsCallable`. */
export const TURN_CREDENTIALS_CALLABLE = "getTurnCredentials";
