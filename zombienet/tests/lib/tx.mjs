// Submitting transactions from tests the way a wallet does (shared with the zombienet scripts).
import tx from '../../lib/tx.cjs';

export const { submit, dispatchErrorName } = tx;
