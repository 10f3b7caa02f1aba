//! A generator of realistic Messenger exports for tests and benchmarks, deterministic for a
//! seed on every platform. Exports are messy the way real ones are: null contents (stickers,
//! images), personalised autoresponses mentioning `*977#`, agent replies that also mention it,
//! page broadcasts, duplicates, unsorted arrays, customers who come back days later, several
//! agents (some with only an email), English, Swahili and Sheng, and a few broken records. Its
//! phrasings and its mix of endings follow a real export (`eval/`): mostly logged complaints,
//! requests for details and unanswered chats, about one in five solved at first contact.

use std::fmt::Write as _;

use crate::time::format_timestamp;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Number of chats.
    pub conversations: usize,
    /// Seed of the pseudo-random sequence.
    pub seed: u64,
    /// Epoch ms of the first day.
    pub start_ms: i64,
    /// Days the chats start over.
    pub days: u32,
    /// Rate (0..1) of broken records (bad timestamps, missing or bad directions).
    pub broken_rate: f64,
    /// Emit the flat-array form instead of the grouped object.
    pub flat: bool,
}

impl Default for SynthOptions {
    fn default() -> Self {
        Self {
            conversations: 100,
            seed: 42,
            start_ms: 1_754_006_400_000, // 2025-08-01T00:00:00Z
            days: 14,
            broken_rate: 0.004,
            flat: false,
        }
    }
}

/// SplitMix64: tiny, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "Wanjiku", "Otieno", "Akinyi", "Kamau", "Njeri", "Mwangi", "Achieng", "Kiprono", "Chebet",
    "Mutua", "Wambui", "Omondi", "Nafula", "Kariuki", "Atieno", "Barasa", "Moraa", "Juma",
    "Halima", "Brian", "Faith", "Kevin", "Mercy", "Dennis",
];

const AGENTS: &[(&str, &str)] = &[
    ("amina.k", "amina.k@care.example.co.ke"),
    ("brian.o", "brian.o@care.example.co.ke"),
    ("carol.w", "carol.w@care.example.co.ke"),
    ("david.m", "david.m@care.example.co.ke"),
    ("esther.n", "esther.n@care.example.co.ke"),
    ("", "felix.k@care.example.co.ke"),
    ("grace.a", "grace.a@care.example.co.ke"),
    ("hassan.j", "hassan.j@care.example.co.ke"),
];

const GREETINGS: &[&str] = &[
    "Get Started",
    "Hi",
    "Hello",
    "Habari",
    "Niaje",
    "Good morning",
    "Hallo admin",
    "Sasa",
];

struct Scenario {
    opening: &'static [&'static str],
    details: &'static [&'static str],
    agent_first: &'static [&'static str],
    agent_fix: &'static [&'static str],
    agent_logged: &'static [&'static str],
}

const OUTAGE: Scenario = Scenario {
    opening: &[
        "Hi, we have no power since morning in Kahawa West",
        "Hakuna stima tangu jana usiku, tafadhali saidieni",
        "No electricity in our area since 6pm. What is happening?",
        "Stima imepotea Umoja 2 tangu saa nne asubuhi",
        "Power outage at Ruiru bypass, the whole estate is dark",
        "Aki hii stima imeenda tena, ni mara ya tatu wiki hii",
        "Blackout in Kisumu Milimani since 2pm, please help",
        "There is no power at my place, neighbours have power",
        "Good morning we don't have power since 5am",
        "Hi KPLC, hatuna stima",
        "Hamna sitima huku Githurai since jana",
        "Kindly restore power in Kayole junction, it has been off since yesterday",
        "The power is dim and the lights keep going on and off",
        "Blackout for the past 3 days, please do something",
        "Ruaka again, every night no electricity. What could be the issue?",
    ],
    details: &[
        "Account number 1234567-01",
        "Meter number 37145982216",
        "Tuko giza hapa, watoto wanasoma",
        "It is the third time this week",
        "The transformer made a loud bang before it went off",
        "Please send someone urgently",
        "Bado hakuna stima",
    ],
    agent_first: &[
        "Sorry for the inconvenience. Kindly share your meter number and location.",
        "Hello, please provide your account/meter number, a brief description of the location and phone number for assistance.",
        "Hello, kindly share your meter/account number with us so we can assist you further.",
        "Pole sana kwa usumbufu. Tafadhali tuma meter number na eneo lako.",
        "We are sorry about that. May we have your account number and nearest landmark?",
    ],
    agent_fix: &[
        "Power has been restored in your area. Kindly confirm.",
        "Our team has fixed the fault and supply has been restored.",
        "Stima imerudishwa eneo lako. Tafadhali thibitisha.",
    ],
    agent_logged: &[
        "Your complaint has been logged, reference number 4481992. Our technical team will attend to it.",
        "We have escalated this to the regional team, ref no 5520017. Kindly be patient.",
        "Ticket 7719023 has been raised. Technicians will be dispatched.",
        "Hello, inconvenience is highly regretted. We have booked the complaint under reference number 53424433 for assistance.",
        "Your complaint has been logged under reference number 45405271 and forwarded to our technical team.",
        "Kindly allow us to follow up on this to ensure you're back on supply as soon as possible.",
        "We are actively following up with our technical team. We appreciate your patience.",
    ],
};

const TOKENS: Scenario = Scenario {
    opening: &[
        "I bought tokens via mpesa but I have not received the token",
        "Nimenunua token ya 500 lakini sijapata message",
        "Token haijaingia, nimelipa kupitia paybill 888880",
        "Please help, I paid for tokens 2 hours ago and nothing",
        "My meter is rejecting the token, it says invalid",
        "Nilituma pesa for tokens but haijafika, naomba msaada",
        "Have paid but I have not received the token numbers",
        "I have purchased tokens na hazijakam 30mins later",
        "Bought token yet to receive units",
        "Transaction failed. The format of your account number is incorrect.",
    ],
    details: &[
        "Mpesa code QKT7H2LMN9",
        "Meter number 04234567891",
        "Nimelipa 1000 bob",
        "It says 'reject' on the keypad",
        "Still waiting",
        "Hello??",
    ],
    agent_first: &[
        "Kindly share the Mpesa confirmation code and meter number.",
        "Sorry for the delay. Please share the transaction code so we can check.",
        "Tafadhali tuma Mpesa code na meter number tuangalie.",
        "Hello, kindly share your meter/account number with us so we can assist you further. You can also check your last three token transactions by dialing *977#.",
    ],
    agent_fix: &[
        "Your token is 1234 5678 9012 3456 7890 for 31.4 units. Kindly load it.",
        "Here is your token: 5521 0093 4412 8876 1204. You can also dial *977# to get your last tokens.",
        "Token yako ni 4410 2291 0038 5576 9921. Asante kwa subira.",
        "Hello, apologies for the delay, kindly receive your token: 6185-3180-4271-5757-2210.",
    ],
    agent_logged: &[
        "We have forwarded the transaction to our vending team, ref number 8812201.",
        "The payment has been escalated for reconciliation, it will be sorted within 24 hours.",
        "Hello. We are experiencing a system error and are working on it. Please try to purchase again at 2 am.",
    ],
};

const BILLING: Scenario = Scenario {
    opening: &[
        "Why is my bill so high this month? I am being overcharged",
        "Naomba statement ya account yangu",
        "I received an estimated bill of 8,400 but my usage is low",
        "How do I check my postpaid bill balance?",
        "Bill yangu imekuja na arrears sielewi",
    ],
    details: &[
        "Account 2233445-02",
        "This is the second month in a row",
        "I always pay on time",
        "Please explain the charges",
    ],
    agent_first: &[
        "Kindly share your account number so we can review the bill.",
        "You can dial *977# to check your balance, or share your account number here.",
    ],
    agent_fix: &[
        "We have reviewed your account and the bill has been corrected to 2,150. Apologies.",
        "Your statement has been sent to your email. The arrears are from the previous owner and have been reversed.",
        "The estimated reading has been replaced with the actual reading; your balance is now 1,020.",
    ],
    agent_logged: &[
        "Your billing complaint has been logged, reference number 3301987. The billing team will get back to you.",
    ],
};

const METER: Scenario = Scenario {
    opening: &[
        "My meter is beeping and showing an error",
        "Meter yangu haifanyi kazi, inaonyesha 'ERROR 28'",
        "The CIU keypad is not working",
        "Meter box ilichomeka jana usiku",
    ],
    details: &[
        "Meter number 14398822101",
        "It has been like this for 3 days",
        "Tafadhali mtume fundi",
    ],
    agent_first: &["Kindly share the meter number and a photo of the display."],
    agent_fix: &[
        "Kindly enter the reset code 1234 5678 9012 3456 7788 on the keypad, then load your token.",
        "A technician has replaced the CIU. Kindly confirm it is working.",
    ],
    agent_logged: &[
        "A meter fault has been logged under reference number 9910223. Technicians will visit.",
    ],
};

const CONNECTION: Scenario = Scenario {
    opening: &[
        "How do I apply for a new connection?",
        "Nataka kuunganishwa na stima, nifanye nini?",
        "What is the connection fee for a new supply in Machakos?",
        "I paid for a quotation 3 months ago and nothing has happened",
    ],
    details: &["The plot is 200m from the transformer", "Ni nyumba ya rental units 6", "Nobody has called me"],
    agent_first: &["You can apply online through our portal or visit any of our offices."],
    agent_fix: &[
        "The new connection fee is 15,000 under the last mile programme. Apply on the portal with your ID and KRA PIN.",
        "Your application has been processed and the connection is scheduled for Thursday.",
    ],
    agent_logged: &["Your application has been forwarded to the regional office, ref number 6623001."],
};

const SAFETY: Scenario = Scenario {
    opening: &[
        "There is a fallen pole with live wire near Githurai 45 stage!",
        "Sparks coming from the transformer near our school, hatari!",
        "Naked wire hanging on the road at Kayole junction",
    ],
    details: &[
        "Children play there",
        "It is raining and very dangerous",
        "Please come fast",
    ],
    agent_first: &[
        "Thank you for reporting. Kindly share the exact location. Please keep away from the wire.",
    ],
    agent_fix: &["Our emergency team has made the site safe and the line has been rectified."],
    agent_logged: &[
        "The emergency has been escalated to our standby team, reference number 1188273.",
    ],
};

const SCENARIOS: &[&Scenario] = &[
    &OUTAGE,
    &OUTAGE,
    &TOKENS,
    &TOKENS,
    &BILLING,
    &METER,
    &CONNECTION,
    &SAFETY,
];

const THANKS: &[&str] = &[
    "Thank you so much, it works now!",
    "Asante sana, stima imerudi",
    "Received, thanks",
    "Imeingia, asante",
    "Great, thank you for the quick help 👍",
    "Poa, shukran",
    "Ok thanks",
];

const STILL: &[&str] = &[
    "It is still not working",
    "Bado hakuna stima",
    "The token has not been received yet",
    "Still waiting, any update?",
    "Haijaingia bado",
];

const ANGRY: &[&str] = &[
    "This is useless, you people are thieves!",
    "Mnaboa sana, every time the same problem",
    "Worst service ever. I will take you to court",
    "Nonsense! Three days without power and nobody cares",
    "Wezi nyinyi, mnatuibia pesa",
    "😡😡 you are incompetent",
];

const BROADCASTS: &[&str] = &[
    "PLANNED MAINTENANCE: Parts of Nairobi West will be off supply on Sunday 9am-5pm.",
    "Beware of fraudsters. Our staff will never ask for money to restore your power.",
    "Tunawatakia wateja wetu heri ya sikukuu!",
];

/// What the generator meant a chat to be, for checking the analyzer against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The chat id.
    pub chat_id: String,
    /// `happy`, `silent_fix`, `logged`, `still`, `angry`, `unanswered` or `greeting_only`.
    pub outcome: &'static str,
    /// The customer came back days later (and got a fix then).
    pub came_back: bool,
    /// The customer chased ("Still waiting", "Hello??").
    pub chased: bool,
    /// The customer reported a repeated failure ("the third time this week").
    pub repeated: bool,
}

/// Generates an export as JSON bytes.
pub fn generate(opts: &SynthOptions) -> Vec<u8> {
    generate_labeled(opts).0
}

/// Generates an export and says how each chat was meant to end.
pub fn generate_labeled(opts: &SynthOptions) -> (Vec<u8>, Vec<Label>) {
    let mut labels = Vec::with_capacity(opts.conversations);
    let mut out = String::with_capacity(opts.conversations * 2700);
    let mut rng = Rng::new(opts.seed);
    out.push_str(if opts.flat { "[" } else { "{" });
    let mut first_chat = true;
    let mut first_flat = true;
    for n in 0..opts.conversations {
        let chat_id = format!(
            "t_{:016}",
            1_000_000_000_000_000u64
                .wrapping_add(rng.below(8_999_999_999_999_999))
                .wrapping_add(n as u64)
                % 10_000_000_000_000_000
        );
        let (mut msgs, outcome, came_back) = chat(&mut rng, opts, n);
        let said = |needles: &[&str]| {
            msgs.iter().any(|m| {
                m.direction == "to_company"
                    && m.content
                        .as_deref()
                        .is_some_and(|c| needles.iter().any(|n| c.contains(n)))
            })
        };
        labels.push(Label {
            chat_id: chat_id.clone(),
            outcome: outcome.name(),
            came_back,
            chased: said(&["Still waiting", "Hello??"]),
            repeated: said(&["mara ya tatu", "third time", "in a row", "every time"]),
        });
        if rng.chance(0.1) {
            // Exports are not always sorted: shuffle this chat.
            for i in (1..msgs.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                msgs.swap(i, j);
            }
        }
        if opts.flat {
            for m in &msgs {
                out.push_str(if first_flat { "\n  " } else { ",\n  " });
                first_flat = false;
                write_message(&mut out, &chat_id, m);
            }
        } else {
            out.push_str(if first_chat { "\n  " } else { ",\n  " });
            first_chat = false;
            out.push_str(&json_str(&chat_id));
            out.push_str(": [");
            for (i, m) in msgs.iter().enumerate() {
                out.push_str(if i == 0 { "\n    " } else { ",\n    " });
                write_message(&mut out, &chat_id, m);
            }
            out.push_str("\n  ]");
        }
    }
    out.push_str(if opts.flat { "\n]\n" } else { "\n}\n" });
    (out.into_bytes(), labels)
}

struct Msg {
    content: Option<String>,
    direction: &'static str,
    time: String,
    agent: Option<(&'static str, &'static str)>,
    kind: &'static str,
    post_id: String,
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// Writes one message as a single line of JSON (the layout many exporters use).
fn write_message(out: &mut String, chat_id: &str, m: &Msg) {
    let field = |v: Option<&str>| {
        v.filter(|s| !s.is_empty())
            .map_or("null".to_owned(), json_str)
    };
    let _ = write!(
        out,
        "{{\"FB_CHAT_ID\": {}, \"MESSAGE_CONTENT\": {}, \"DIRECTION\": {}, \"SOCIAL_CREATE_TIME\": {}, \"AGENT_USERNAME\": {}, \"AGENT_EMAIL\": {}, \"MESSAGE_TYPE\": \"{}\", \"VIA\": \"messenger\", \"PLATFORM\": \"facebook\", \"UNIQUE_POST_ID\": {}}}",
        json_str(chat_id),
        m.content.as_deref().map_or("null".to_owned(), json_str),
        if m.direction.is_empty() { "null".to_owned() } else { json_str(m.direction) },
        json_str(&m.time),
        field(m.agent.map(|a| a.0)),
        field(m.agent.map(|a| a.1)),
        m.kind,
        json_str(&m.post_id),
    );
}

/// How a generated conversation ends.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Happy,
    SilentFix,
    Logged,
    Still,
    Angry,
    Unanswered,
    GreetingOnly,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Happy => "happy",
            Outcome::SilentFix => "silent_fix",
            Outcome::Logged => "logged",
            Outcome::Still => "still",
            Outcome::Angry => "angry",
            Outcome::Unanswered => "unanswered",
            Outcome::GreetingOnly => "greeting_only",
        }
    }
}

struct ChatBuilder<'r> {
    rng: &'r mut Rng,
    msgs: Vec<Msg>,
    post: u32,
    n: usize,
}

impl ChatBuilder<'_> {
    fn push(
        &mut self,
        t: i64,
        direction: &'static str,
        content: Option<String>,
        agent: Option<(&'static str, &'static str)>,
    ) {
        self.post += 1;
        let kind = if content.is_none() {
            *self.rng.pick(&["image", "sticker", "audio"])
        } else {
            "text"
        };
        let post_id = format!(
            "m_{:x}{:04}{}",
            self.rng.next_u64() & 0xffff_ffff_ffff,
            self.post,
            self.n
        );
        // Real exports carry whole seconds.
        self.msgs.push(Msg {
            content,
            direction,
            time: format_timestamp(t - t.rem_euclid(1000)),
            agent,
            kind,
            post_id,
        });
    }

    /// Pushes a message whose text is picked from `bank`.
    fn say(
        &mut self,
        t: i64,
        direction: &'static str,
        bank: &[&str],
        agent: Option<(&'static str, &'static str)>,
    ) {
        let text = self.rng.pick(bank).to_string();
        self.push(t, direction, Some(text), agent);
    }

    fn gap(&mut self) -> i64 {
        // Reply gaps: mostly minutes, sometimes hours.
        if self.rng.chance(0.15) {
            3_600_000 + self.rng.below(6 * 3_600_000) as i64
        } else {
            30_000 + self.rng.below(25 * 60_000) as i64
        }
    }

    fn wait(&mut self, min_ms: i64, spread_ms: u64) -> i64 {
        min_ms + self.rng.below(spread_ms) as i64
    }
}

fn chat(rng: &mut Rng, opts: &SynthOptions, n: usize) -> (Vec<Msg>, Outcome, bool) {
    let day = rng.below(opts.days.max(1) as u64) as i64;
    // Busy hours: 6:00 to 22:00 East Africa time (UTC+3), i.e. 03:00 to 19:00 UTC.
    let mut t = opts.start_ms + day * 86_400_000 + (3 * 3600 + rng.below(16 * 3600) as i64) * 1000;
    let name = *rng.pick(NAMES);
    let agent = Some(*rng.pick(AGENTS));
    let second_agent = Some(*rng.pick(AGENTS));
    // The mix of a real utility's export (eval/): about one chat in five is solved at first
    // contact; most end at a request for details, a logged complaint or no answer at all.
    let outcome = match rng.below(100) {
        0..=9 => Outcome::Happy,
        10..=21 => Outcome::SilentFix,
        22..=51 => Outcome::Logged,
        52..=63 => Outcome::Still,
        64..=71 => Outcome::Angry,
        72..=91 => Outcome::Unanswered,
        _ => Outcome::GreetingOnly,
    };
    let sc = *rng.pick(SCENARIOS);
    let mut b = ChatBuilder {
        rng,
        msgs: Vec::new(),
        post: 0,
        n,
    };

    if b.rng.chance(0.05) {
        b.say(t - 3_600_000, "to_client", BROADCASTS, None);
    }
    if b.rng.chance(0.35) {
        b.say(t, "to_company", GREETINGS, None);
        t += b.wait(2_000, 60_000);
    }
    // The personalised autoresponse every chat gets at its first message.
    b.push(
        t + 1000,
        "to_client",
        Some(format!(
            "Hi {name}, Thank you for reaching out! Did you know that you can now dial *977# to buy tokens, check your balance and report outages? An agent will be with you shortly."
        )),
        None,
    );
    if outcome == Outcome::GreetingOnly {
        if b.rng.chance(0.5) {
            t += b.wait(60_000, 3_600_000);
            b.say(
                t,
                "to_client",
                &["Hello, how may we help you today?"],
                agent,
            );
        }
        return (b.msgs, outcome, false);
    }
    t += 5_000;
    b.say(t, "to_company", sc.opening, None);
    for _ in 0..b.rng.below(3) {
        t += b.wait(10_000, 300_000);
        if b.rng.chance(0.15) {
            b.push(t, "to_company", None, None);
        } else {
            b.say(t, "to_company", sc.details, None);
        }
    }
    if outcome == Outcome::Unanswered {
        if b.rng.chance(0.5) {
            t += b.wait(3_600_000, 7_200_000);
            b.say(t, "to_company", STILL, None);
        }
        return (b.msgs, outcome, false);
    }
    t += b.gap();
    b.say(t, "to_client", sc.agent_first, agent);
    // Long back-and-forth conversations exist (up to about 100 messages).
    let rounds = if b.rng.chance(0.02) {
        5 + b.rng.below(30)
    } else {
        b.rng.below(2)
    };
    for _ in 0..rounds {
        t += b.wait(20_000, 600_000);
        b.say(t, "to_company", sc.details, None);
        t += b.gap();
        let who = if b.rng.chance(0.2) {
            second_agent
        } else {
            agent
        };
        b.say(t, "to_client", sc.agent_first, who);
    }
    if b.rng.chance(0.1) {
        // A duplicate of the last message, exactly as exports repeat it.
        let last = b.msgs.last().expect("messages exist");
        let dup = Msg {
            content: last.content.clone(),
            direction: last.direction,
            time: last.time.clone(),
            agent: last.agent,
            kind: last.kind,
            post_id: last.post_id.clone(),
        };
        b.msgs.push(dup);
    }
    t += b.wait(60_000, 600_000);
    match outcome {
        Outcome::Happy | Outcome::SilentFix => {
            b.say(t, "to_client", sc.agent_fix, agent);
            if outcome == Outcome::Happy {
                t += b.wait(30_000, 900_000);
                b.say(t, "to_company", THANKS, None);
            }
        }
        Outcome::Logged => {
            b.say(t, "to_client", sc.agent_logged, agent);
            if b.rng.chance(0.5) {
                t += b.wait(30_000, 600_000);
                b.say(t, "to_company", &["Ok"], None);
            }
        }
        Outcome::Still | Outcome::Angry => {
            b.say(t, "to_client", sc.agent_logged, agent);
            t += b.wait(3_600_000, 5 * 3_600_000);
            b.say(
                t,
                "to_company",
                if outcome == Outcome::Angry {
                    ANGRY
                } else {
                    STILL
                },
                None,
            );
        }
        Outcome::Unanswered | Outcome::GreetingOnly => {}
    }
    if b.rng.chance(0.08) {
        // An agent mentioning the USSD code is a real reply, not an autoresponse.
        t += 20_000;
        b.say(
            t,
            "to_client",
            &["You can also dial *977# anytime to check your token history."],
            agent,
        );
    }
    let came_back = b.rng.chance(0.1);
    if came_back {
        // The customer comes back days later.
        t += (1 + b.rng.below(4) as i64) * 86_400_000 + b.rng.below(3_600_000) as i64;
        b.say(t, "to_company", STILL, None);
        t += b.gap();
        b.say(t, "to_client", sc.agent_fix, second_agent);
    }
    if b.rng.chance(0.03) {
        b.push(t + 1000, "to_company", Some("   ".into()), None);
    }
    let ChatBuilder { rng, mut msgs, .. } = b;
    for m in msgs.iter_mut() {
        if rng.chance(opts.broken_rate) {
            match rng.below(3) {
                0 => {
                    m.time = (*rng.pick(&[
                        "yesterday 10:00",
                        "2025-13-45T10:00:00Z",
                        "12/08/2025 09:14",
                    ]))
                    .to_owned()
                }
                1 => m.direction = "",
                _ => m.direction = "inbound",
            }
        }
    }
    (msgs, outcome, came_back)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{process, Options};

    #[test]
    fn generated_exports_parse_and_are_deterministic() {
        let opts = SynthOptions {
            conversations: 300,
            ..SynthOptions::default()
        };
        let a = generate(&opts);
        assert_eq!(a, generate(&opts));
        let d = process(&a, &Options::default()).unwrap();
        let r = &d.report;
        assert_eq!(r.chats_read, 300);
        assert!(r.filtered.autoresponse >= 290, "{r:?}");
        assert!(
            r.filtered.empty_content > 0 && r.filtered.duplicate > 0,
            "{r:?}"
        );
        assert!(d.conversations.iter().any(|c| c.summary.customer_came_back));
        assert!(d.conversations.iter().any(|c| c.summary.agents.len() > 1));
        let flat = generate(&SynthOptions { flat: true, ..opts });
        let f = process(&flat, &Options::default()).unwrap();
        assert_eq!(
            f.metrics(&Default::default()),
            d.metrics(&Default::default())
        );
    }
}
