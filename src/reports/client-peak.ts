/** What the operations report needs of client presence: the most clients connected at once in each period. */
export interface ClientPeak {
  /** The peak since the previous call; the next period starts from the clients connected now. */
  takePeak(): number;
}

export const CLIENT_PEAK = Symbol('CLIENT_PEAK');
