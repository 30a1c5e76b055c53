//! Who may generate, and how much (audit H-5).
//!
//! Generation costs the node seconds of CPU per request, so it is bounded three ways:
//!
//! - **where**: [`caller`] admits generation on the dedicated inference port (every caller is
//!   public there, and known by address) and on Substrate's RPC port only where unsafe methods
//!   are allowed (a loopback interface with `--rpc-methods auto`, or `--rpc-methods unsafe`).
//!   Substrate's RPC server does not tell a method who called it (it inserts only
//!   [`DenyUnsafe`] into a request's extensions), so a public interface there could only limit
//!   per connection, which a client evades by opening more connections;
//! - **per client address** ([`IpLimiter`], inference port): requests in flight and requests
//!   started per minute (a token bucket). An IPv6 client is counted by its /64 network, the
//!   block one subscriber usually holds;
//! - **per connection** ([`ConnectionLimiter`], both ports): requests in flight, a second bound.
//!
//! Slots are guards: a request that ends in any way (answer, error, client gone) frees its slot
//! when the guard drops.

use super::error::Error;
use inference_engine::CancelToken;
use jsonrpsee::{ConnectionId, Extensions};
use parking_lot::Mutex;
use sc_rpc_api::DenyUnsafe;
use std::{
	collections::HashMap,
	net::{IpAddr, Ipv6Addr, SocketAddr},
	sync::Arc,
	time::{Duration, Instant},
};

/// Most client addresses the [`IpLimiter`] remembers. Idle ones are forgotten first; only when
/// this many addresses all have requests in flight is a new address refused.
pub const MAX_TRACKED_CLIENTS: usize = 4096;

/// How often the [`IpLimiter`] forgets idle addresses even when it is not full.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// The address of the client of a request on the inference port, inserted into the request's
/// extensions by that port's server (`port.rs`). Substrate's RPC server never inserts it, so
/// its presence means "called on the inference port".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Who is asking for a generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
	/// A client of the inference port, limited per address.
	Public(IpAddr),
	/// A caller of Substrate's RPC port where unsafe methods are allowed: the operator.
	Trusted,
}

/// Admits a generation request, or says where to go instead: see the module documentation.
/// `inference_port` is named in the refusal.
pub fn caller(ext: &Extensions, inference_port: Option<u16>) -> Result<Caller, Error> {
	if let Some(ClientAddr(addr)) = ext.get::<ClientAddr>() {
		return Ok(Caller::Public(addr.ip()));
	}
	match ext.get::<DenyUnsafe>() {
		Some(DenyUnsafe::No) => Ok(Caller::Trusted),
		// A request without the extension did not come through either server (a test calling
		// the module directly); treat it as public.
		Some(DenyUnsafe::Yes) | None => Err(Error::UseInferencePort(inference_port)),
	}
}

/// Whether unsafe methods (`inference_keyOwnershipProof`) may run for this request: only on
/// Substrate's RPC port, where it allows them. The inference port is public by design.
pub fn unsafe_allowed(ext: &Extensions) -> bool {
	ext.get::<ClientAddr>().is_none() && matches!(ext.get::<DenyUnsafe>(), Some(DenyUnsafe::No))
}

/// Counts requests in flight per connection.
#[derive(Default)]
pub struct ConnectionLimiter {
	counts: Arc<Mutex<HashMap<ConnectionId, usize>>>,
}

impl ConnectionLimiter {
	/// Takes one of `max` slots of the request's connection.
	pub fn acquire(&self, ext: &Extensions, max: usize) -> Result<ConnectionSlot, Error> {
		// Only a direct module call (tests) has no connection id.
		let id = ext
			.get::<ConnectionId>()
			.copied()
			.unwrap_or(ConnectionId(0));
		let mut counts = self.counts.lock();
		let n = counts.entry(id).or_insert(0);
		if *n >= max {
			return Err(Error::TooManyPerConnection(max));
		}
		*n += 1;
		Ok(ConnectionSlot {
			counts: self.counts.clone(),
			id,
		})
	}

	/// Connections with requests in flight.
	#[cfg(test)]
	pub fn tracked(&self) -> usize {
		self.counts.lock().len()
	}
}

/// A connection's request slot, freed on drop.
pub struct ConnectionSlot {
	counts: Arc<Mutex<HashMap<ConnectionId, usize>>>,
	id: ConnectionId,
}

impl Drop for ConnectionSlot {
	fn drop(&mut self) {
		let mut counts = self.counts.lock();
		if let Some(n) = counts.get_mut(&self.id) {
			*n = n.saturating_sub(1);
			if *n == 0 {
				counts.remove(&self.id);
			}
		}
	}
}

/// The unit that [`IpLimiter`] counts: an IPv4 address (IPv4-mapped IPv6 included), or an IPv6
/// /64 network.
pub fn client_key(ip: IpAddr) -> IpAddr {
	match ip {
		IpAddr::V4(_) => ip,
		IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
			Some(v4) => IpAddr::V4(v4),
			None => {
				let s = v6.segments();
				IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
			},
		},
	}
}

/// What the limiter knows about one client.
#[derive(Clone, Copy, Debug)]
struct ClientState {
	/// Requests in flight.
	in_flight: usize,
	/// Requests it may still start now (a token bucket of `per_minute` tokens, refilled at
	/// `per_minute` tokens a minute).
	tokens: f64,
	/// When `tokens` was last brought up to date.
	updated: Instant,
}

/// Per-client-address limits of the inference port: see the module documentation.
///
/// The state is bounded: at most `max_clients` addresses, and an address with nothing in flight
/// and a full bucket is the same as an unknown one, so it is forgotten.
pub struct IpLimiter {
	max_in_flight: usize,
	per_minute: u32,
	max_clients: usize,
	state: Mutex<LimiterState>,
}

struct LimiterState {
	clients: HashMap<IpAddr, ClientState>,
	last_sweep: Option<Instant>,
}

impl IpLimiter {
	/// `max_in_flight` requests at once and `per_minute` starts a minute per client, for at most
	/// [`MAX_TRACKED_CLIENTS`] clients.
	pub fn new(max_in_flight: usize, per_minute: u32) -> Arc<Self> {
		Self::with_max_clients(max_in_flight, per_minute, MAX_TRACKED_CLIENTS)
	}

	/// [`IpLimiter::new`] with another bound on remembered clients.
	pub fn with_max_clients(
		max_in_flight: usize,
		per_minute: u32,
		max_clients: usize,
	) -> Arc<Self> {
		Arc::new(Self {
			max_in_flight: max_in_flight.max(1),
			per_minute: per_minute.max(1),
			max_clients: max_clients.max(1),
			state: Mutex::new(LimiterState {
				clients: HashMap::new(),
				last_sweep: None,
			}),
		})
	}

	fn capacity(&self) -> f64 {
		f64::from(self.per_minute)
	}

	/// Brings `client`'s bucket up to `now`.
	fn refill(&self, client: &mut ClientState, now: Instant) {
		let elapsed = now.saturating_duration_since(client.updated).as_secs_f64();
		client.tokens = (client.tokens + elapsed * self.capacity() / 60.0).min(self.capacity());
		client.updated = client.updated.max(now);
	}

	/// Whether `client` is the same as an unknown one at `now`.
	fn idle(&self, client: &mut ClientState, now: Instant) -> bool {
		self.refill(client, now);
		client.in_flight == 0 && client.tokens >= self.capacity()
	}

	/// Forgets idle clients.
	fn sweep(&self, state: &mut LimiterState, now: Instant) {
		state.clients.retain(|_, client| !self.idle(client, now));
		state.last_sweep = Some(now);
	}

	/// Makes room for one more client: forgets idle ones, then, if none was idle, the client
	/// with nothing in flight whose bucket is fullest (it loses the least by starting afresh).
	/// `false` if every remembered client has requests in flight.
	fn make_room(&self, state: &mut LimiterState, now: Instant) -> bool {
		self.sweep(state, now);
		if state.clients.len() < self.max_clients {
			return true;
		}
		let evict = state
			.clients
			.iter()
			.filter(|(_, c)| c.in_flight == 0)
			.max_by(|(_, a), (_, b)| a.tokens.total_cmp(&b.tokens))
			.map(|(key, _)| *key);
		match evict {
			Some(key) => {
				state.clients.remove(&key);
				true
			},
			None => false,
		}
	}

	/// Takes a slot for a request from `ip` at `now`, or says which limit it hit.
	pub fn acquire(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<IpSlot, Error> {
		let key = client_key(ip);
		let mut state = self.state.lock();
		if state
			.last_sweep
			.is_none_or(|last| now.saturating_duration_since(last) >= SWEEP_INTERVAL)
		{
			self.sweep(&mut state, now);
		}
		if !state.clients.contains_key(&key)
			&& state.clients.len() >= self.max_clients
			&& !self.make_room(&mut state, now)
		{
			return Err(Error::TooManyPerIp(None));
		}
		let capacity = self.capacity();
		let client = state.clients.entry(key).or_insert(ClientState {
			in_flight: 0,
			tokens: capacity,
			updated: now,
		});
		self.refill(client, now);
		// The in-flight bound first: a request refused for it does not spend the budget.
		if client.in_flight >= self.max_in_flight {
			return Err(Error::TooManyPerIp(Some(self.max_in_flight)));
		}
		if client.tokens < 1.0 {
			return Err(Error::RateLimited(self.per_minute));
		}
		client.tokens -= 1.0;
		client.in_flight += 1;
		Ok(IpSlot {
			limiter: self.clone(),
			key,
		})
	}

	/// Clients remembered now.
	#[cfg(test)]
	pub fn tracked(&self) -> usize {
		self.state.lock().clients.len()
	}
}

/// A client's request slot, freed on drop.
pub struct IpSlot {
	limiter: Arc<IpLimiter>,
	key: IpAddr,
}

impl Drop for IpSlot {
	fn drop(&mut self) {
		let mut state = self.limiter.state.lock();
		if let Some(client) = state.clients.get_mut(&self.key) {
			client.in_flight = client.in_flight.saturating_sub(1);
		}
	}
}

/// Cancels a generation when its future or subscription is dropped (client gone), so the
/// engine stops spending a worker on it.
pub struct CancelOnDrop(pub CancelToken);

impl Drop for CancelOnDrop {
	fn drop(&mut self) {
		self.0.cancel()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::net::Ipv4Addr;

	fn ip(n: u8) -> IpAddr {
		IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
	}

	#[test]
	fn in_flight_per_ip_is_bounded_and_freed_on_drop() {
		let limiter = IpLimiter::new(2, 1000);
		let t = Instant::now();
		let a = limiter.acquire(ip(1), t).expect("first");
		let _b = limiter.acquire(ip(1), t).expect("second");
		assert_eq!(
			limiter.acquire(ip(1), t).err(),
			Some(Error::TooManyPerIp(Some(2)))
		);
		// Another address is not affected.
		let _c = limiter.acquire(ip(2), t).expect("other address");
		drop(a);
		limiter.acquire(ip(1), t).expect("a slot was freed");
	}

	#[test]
	fn ipv6_clients_share_their_slash_64() {
		let limiter = IpLimiter::new(1, 1000);
		let t = Instant::now();
		let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
		let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
		let other_net: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
		let _slot = limiter.acquire(one, t).expect("first");
		assert_eq!(
			limiter.acquire(same_net, t).err(),
			Some(Error::TooManyPerIp(Some(1)))
		);
		limiter.acquire(other_net, t).expect("another /64");
		// IPv4-mapped IPv6 is the IPv4 address.
		let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
		assert_eq!(client_key(mapped), ip(7));
	}

	#[test]
	fn rate_per_ip_refills_over_a_minute() {
		let limiter = IpLimiter::new(100, 3);
		let t = Instant::now();
		for _ in 0..3 {
			drop(limiter.acquire(ip(1), t).expect("within the budget"));
		}
		assert_eq!(limiter.acquire(ip(1), t).err(), Some(Error::RateLimited(3)));
		// Other addresses have budgets of their own.
		drop(limiter.acquire(ip(2), t).expect("other address"));
		// One token comes back every 20 s.
		assert_eq!(
			limiter.acquire(ip(1), t + Duration::from_secs(10)).err(),
			Some(Error::RateLimited(3))
		);
		drop(
			limiter
				.acquire(ip(1), t + Duration::from_secs(21))
				.expect("refilled"),
		);
		// A full minute refills the bucket, never beyond it.
		let later = t + Duration::from_secs(3600);
		for _ in 0..3 {
			drop(limiter.acquire(ip(1), later).expect("refilled"));
		}
		assert!(limiter.acquire(ip(1), later).is_err());
	}

	#[test]
	fn a_refused_request_spends_no_budget() {
		let limiter = IpLimiter::new(1, 2);
		let t = Instant::now();
		let slot = limiter.acquire(ip(1), t).expect("first");
		for _ in 0..10 {
			assert_eq!(
				limiter.acquire(ip(1), t).err(),
				Some(Error::TooManyPerIp(Some(1)))
			);
		}
		drop(slot);
		drop(limiter.acquire(ip(1), t).expect("one token left"));
	}

	#[test]
	fn idle_clients_are_evicted_and_state_stays_bounded() {
		let limiter = IpLimiter::with_max_clients(1, 60, 4);
		let t = Instant::now();
		// Four clients, each with a request done: remembered, their buckets not full.
		for n in 0..4 {
			drop(limiter.acquire(ip(n), t).expect("admitted"));
		}
		assert_eq!(limiter.tracked(), 4);
		// A fifth evicts one of them rather than being refused.
		drop(limiter.acquire(ip(10), t).expect("room made"));
		assert_eq!(limiter.tracked(), 4);
		// Thousands of addresses never grow the state past the bound.
		for n in 0..2000u32 {
			let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
			drop(limiter.acquire(addr, t).expect("room made"));
			assert!(limiter.tracked() <= 4);
		}
		// Once buckets are full again, clients are forgotten entirely.
		let later = t + Duration::from_secs(61);
		drop(limiter.acquire(ip(200), later).expect("admitted"));
		assert_eq!(limiter.tracked(), 1, "only the newest client is remembered");
	}

	#[test]
	fn busy_clients_are_never_evicted() {
		let limiter = IpLimiter::with_max_clients(1, 60, 2);
		let t = Instant::now();
		let a = limiter.acquire(ip(1), t).expect("a");
		let _b = limiter.acquire(ip(2), t).expect("b");
		assert_eq!(
			limiter.acquire(ip(3), t).err(),
			Some(Error::TooManyPerIp(None)),
			"every remembered client is busy"
		);
		// The busy client's in-flight count survived: it is still limited.
		assert_eq!(
			limiter.acquire(ip(1), t).err(),
			Some(Error::TooManyPerIp(Some(1)))
		);
		drop(a);
		drop(limiter.acquire(ip(3), t).expect("room after a finished"));
	}

	#[test]
	fn connection_slots_are_bounded_and_freed() {
		let limiter = ConnectionLimiter::default();
		let mut ext = Extensions::new();
		ext.insert(ConnectionId(7));
		let a = limiter.acquire(&ext, 2).expect("a");
		let _b = limiter.acquire(&ext, 2).expect("b");
		assert_eq!(
			limiter.acquire(&ext, 2).err(),
			Some(Error::TooManyPerConnection(2))
		);
		let mut other = Extensions::new();
		other.insert(ConnectionId(8));
		drop(limiter.acquire(&other, 2).expect("another connection"));
		drop(a);
		drop(limiter.acquire(&ext, 2).expect("freed"));
		drop(_b);
		assert_eq!(limiter.tracked(), 0);
	}

	fn with_deny_unsafe(deny: Option<DenyUnsafe>) -> Extensions {
		let mut ext = Extensions::new();
		if let Some(deny) = deny {
			ext.insert(deny);
		}
		ext
	}

	#[test]
	fn main_port_gate() {
		// Substrate's port where unsafe methods are allowed (loopback with `--rpc-methods auto`,
		// or `--rpc-methods unsafe`): the operator, admitted without per-address limits.
		let trusted = with_deny_unsafe(Some(DenyUnsafe::No));
		assert_eq!(caller(&trusted, Some(9955)), Ok(Caller::Trusted));
		assert!(unsafe_allowed(&trusted));
		// A public safe-only interface: refused, pointing to the inference port.
		let public = with_deny_unsafe(Some(DenyUnsafe::Yes));
		let refusal = caller(&public, Some(9955)).expect_err("refused");
		assert_eq!(
			refusal.code(),
			super::super::error::codes::USE_INFERENCE_PORT
		);
		assert!(refusal.message().contains("9955"), "{}", refusal.message());
		assert_eq!(caller(&public, None), Err(Error::UseInferencePort(None)));
		assert!(!unsafe_allowed(&public));
		// No extension at all: treated as public.
		let bare = with_deny_unsafe(None);
		assert!(caller(&bare, Some(9955)).is_err());
		assert!(!unsafe_allowed(&bare));
	}

	#[test]
	fn inference_port_gate() {
		let addr: SocketAddr = "198.51.100.4:5555".parse().expect("addr");
		// The inference port inserts both; the client address wins, and unsafe stays denied
		// even if a `DenyUnsafe::No` were present.
		for deny in [DenyUnsafe::Yes, DenyUnsafe::No] {
			let mut ext = with_deny_unsafe(Some(deny));
			ext.insert(ClientAddr(addr));
			assert_eq!(caller(&ext, Some(9955)), Ok(Caller::Public(addr.ip())));
			assert!(!unsafe_allowed(&ext));
		}
	}

	#[test]
	fn cancel_on_drop_fires() {
		let token = CancelToken::new();
		drop(CancelOnDrop(token.clone()));
		assert!(token.is_cancelled());
	}
}
