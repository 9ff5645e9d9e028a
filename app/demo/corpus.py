"""A deterministic corpus of realistic course records for the demo repository.

The records imitate what Chinese universities and vocational colleges expose over
OAI-PMH: about half Chinese and half English, classified by the national catalogue of
disciplines, with institution, level, licence, resource-type and file details.  The
same ``seed`` gives the same records on every run and every Python version, because
only ``random.Random(seed)`` methods whose algorithms are fixed since Python 3.2 are
used (``random``, ``randrange``, ``choice``, ``choices`` with cumulative weights).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Generic, TypeVar

HOST = "https://demo.coursefed.example"
REPOSITORY_IDENTIFIER = "demo.coursefed.example"
DEFAULT_COUNT = 2400
DEFAULT_SEED = 20261129

T = TypeVar("T")

EARLIEST = datetime(2019, 1, 1, tzinfo=UTC)
LATEST = datetime(2026, 11, 1, tzinfo=UTC)  # exclusive upper bound of datestamps

DISCIPLINE_CATEGORIES: dict[str, tuple[str, str]] = {
    "01": ("哲学", "Philosophy"),
    "02": ("经济学", "Economics"),
    "03": ("法学", "Law"),
    "04": ("教育学", "Education"),
    "05": ("文学", "Literature"),
    "06": ("历史学", "History"),
    "07": ("理学", "Science"),
    "08": ("工学", "Engineering"),
    "09": ("农学", "Agriculture"),
    "10": ("医学", "Medicine"),
    "12": ("管理学", "Management"),
    "13": ("艺术学", "Art"),
}
"""Categories (门类) of the national catalogue of disciplines: code → (zh, en)."""

DISCIPLINES: dict[str, tuple[str, str]] = {
    "0101": ("哲学", "Philosophy"),
    "0202": ("应用经济学", "Applied Economics"),
    "0301": ("法学", "Law"),
    "0401": ("教育学", "Education"),
    "0402": ("心理学", "Psychology"),
    "0501": ("中国语言文学", "Chinese Language and Literature"),
    "0502": ("外国语言文学", "Foreign Languages and Literatures"),
    "0602": ("中国史", "Chinese History"),
    "0701": ("数学", "Mathematics"),
    "0702": ("物理学", "Physics"),
    "0703": ("化学", "Chemistry"),
    "0710": ("生物学", "Biology"),
    "0714": ("统计学", "Statistics"),
    "0802": ("机械工程", "Mechanical Engineering"),
    "0808": ("电气工程", "Electrical Engineering"),
    "0809": ("电子科学与技术", "Electronic Science and Technology"),
    "0810": ("信息与通信工程", "Information and Communication Engineering"),
    "0811": ("控制科学与工程", "Control Science and Engineering"),
    "0812": ("计算机科学与技术", "Computer Science and Technology"),
    "0814": ("土木工程", "Civil Engineering"),
    "0835": ("软件工程", "Software Engineering"),
    "0901": ("作物学", "Crop Science"),
    "1002": ("临床医学", "Clinical Medicine"),
    "1011": ("护理学", "Nursing"),
    "1201": ("管理科学与工程", "Management Science and Engineering"),
    "1202": ("工商管理", "Business Administration"),
    "1204": ("公共管理", "Public Administration"),
    "1304": ("美术学", "Fine Arts"),
}
"""First-level disciplines (一级学科) of the national catalogue: code → (zh, en)."""

LEVELS: dict[str, tuple[str, str]] = {
    "secondary_vocational": ("中等职业教育", "Secondary vocational education"),
    "higher_vocational": ("高等职业教育", "Higher vocational education"),
    "undergraduate": ("本科教育", "Undergraduate education"),
    "postgraduate": ("研究生教育", "Postgraduate education"),
    "continuing_education": ("继续教育", "Continuing education"),
    "vocational_training": ("职业培训", "Vocational training"),
    "community": ("社区教育", "Community education"),
    "senior": ("老年教育", "Education for older adults"),
    "literacy": ("扫盲教育", "Literacy education"),
}
"""Education levels of the profile: code → (zh, en)."""

_AUDIENCE: dict[str, tuple[str, str]] = {
    "secondary_vocational": ("中职学生", "secondary vocational students"),
    "higher_vocational": ("高职学生", "higher vocational students"),
    "undergraduate": ("本科生", "undergraduates"),
    "postgraduate": ("研究生", "postgraduate students"),
    "continuing_education": ("成人学习者", "adult learners"),
    "vocational_training": ("在职人员", "working professionals"),
    "community": ("社区居民", "local residents"),
    "senior": ("老年学员", "older learners"),
    "literacy": ("成人初学者", "adult beginners"),
}


@dataclass(frozen=True)
class Institution:
    """A fictional publisher; ``kind`` is U university, V vocational college,
    S secondary vocational school, O open university."""

    slug: str
    code: str
    name_zh: str
    name_en: str
    kind: str
    focus: tuple[str, ...]  # discipline or category code prefixes; empty = every discipline
    weight: int

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


INSTITUTIONS: tuple[Institution, ...] = (
    Institution("jianglan-univ", "JLU", "江澜大学", "Jianglan University", "U", (), 14),
    Institution(
        "beichen-tech",
        "BCUT",
        "北辰理工大学",
        "Beichen University of Technology",
        "U",
        ("07", "08", "1201"),
        12,
    ),
    Institution(
        "nanyu-normal",
        "NYNU",
        "南屿师范大学",
        "Nanyu Normal University",
        "U",
        ("01", "04", "05", "06", "0701", "0702", "0703", "0710", "13"),
        10,
    ),
    Institution(
        "xiling-med",
        "XLMU",
        "西岭医科大学",
        "Xiling Medical University",
        "U",
        ("10", "0710", "0703", "0402"),
        8,
    ),
    Institution(
        "donghu-finance",
        "DHUFE",
        "东湖财经大学",
        "Donghu University of Finance and Economics",
        "U",
        ("02", "12", "0714", "03"),
        8,
    ),
    Institution(
        "qinghe-agri",
        "QHAU",
        "青禾农业大学",
        "Qinghe Agricultural University",
        "U",
        ("09", "0710", "0703", "12"),
        5,
    ),
    Institution(
        "haichuan-poly",
        "HCVTC",
        "海川职业技术学院",
        "Haichuan Vocational and Technical College",
        "V",
        (),
        9,
    ),
    Institution(
        "jinxi-mech",
        "JXVTC",
        "锦溪机电职业技术学院",
        "Jinxi Vocational and Technical College of Mechanical and Electrical Engineering",
        "V",
        ("08",),
        7,
    ),
    Institution(
        "xinghe-it",
        "XHIT",
        "星河信息职业技术学院",
        "Xinghe Vocational and Technical College of Information Technology",
        "V",
        ("0812", "0835", "0810", "0809", "0714", "1202"),
        8,
    ),
    Institution(
        "minghu-health",
        "MHHC",
        "明湖卫生职业技术学院",
        "Minghu Health Vocational and Technical College",
        "V",
        ("10", "0402"),
        5,
    ),
    Institution(
        "qingxi-secondary",
        "QXVS",
        "青溪中等职业学校",
        "Qingxi Secondary Vocational School",
        "S",
        (),
        4,
    ),
    Institution("anlan-open", "ALOU", "安澜开放大学", "Anlan Open University", "O", (), 6),
)

_LEVEL_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    "U": (("undergraduate", 70), ("postgraduate", 18), ("continuing_education", 12)),
    "V": (("higher_vocational", 75), ("vocational_training", 15), ("continuing_education", 10)),
    "S": (("secondary_vocational", 85), ("vocational_training", 15)),
    "O": (
        ("continuing_education", 45),
        ("community", 25),
        ("senior", 15),
        ("vocational_training", 15),
    ),
}


@dataclass(frozen=True)
class _Course:
    """A course-name stem with its topics; ``kinds`` says which institutions teach it."""

    discipline: str
    zh: str
    en: str
    topics_zh: tuple[str, ...]
    topics_en: tuple[str, ...]
    kinds: str
    open_levels: tuple[str, ...]  # levels at an open university; empty = the usual mix


def _courses(discipline: str, *rows: str) -> list[_Course]:
    """Parse ``zh | en | zh topics | en topics | kinds [| open levels]`` rows."""
    parsed = []
    for row in rows:
        fields = [field.strip() for field in row.split("|")]
        levels = tuple(fields[5].split(",")) if len(fields) > 5 else ()
        parsed.append(
            _Course(
                discipline,
                fields[0],
                fields[1],
                tuple(fields[2].split("、")),
                tuple(fields[3].split(";")),
                fields[4],
                levels,
            )
        )
    return parsed


# Topics are separated by 、 (zh) and ; (en) because English topics may contain commas.
COURSES: tuple[_Course, ...] = (
    *_courses(
        "0101",
        "马克思主义哲学原理 | Principles of Marxist Philosophy"
        " | 唯物辩证法、认识论、历史唯物主义"
        " | materialist dialectics;epistemology;historical materialism | U",
        "中国哲学史 | History of Chinese Philosophy"
        " | 先秦诸子、宋明理学、近代思想"
        " | pre-Qin thinkers;Neo-Confucianism;modern Chinese thought | U",
        "逻辑学导论 | Introduction to Logic"
        " | 命题逻辑、谓词逻辑、论证分析"
        " | propositional logic;predicate logic;argument analysis | U",
        "伦理学 | Ethics"
        " | 规范伦理学、美德伦理、应用伦理"
        " | normative ethics;virtue ethics;applied ethics | U",
        "生活中的哲学 | Philosophy in Everyday Life"
        " | 人生观、幸福、批判性思维"
        " | meaning of life;happiness;critical thinking"
        " | O | community,senior,continuing_education",
    ),
    *_courses(
        "0202",
        "国际贸易实务 | International Trade Practice"
        " | 贸易术语、信用证、报关流程"
        " | Incoterms;letters of credit;customs clearance | UV",
        "金融学 | Finance"
        " | 货币银行、金融市场、风险管理"
        " | money and banking;financial markets;risk management | U",
        "财政学 | Public Finance"
        " | 税收制度、公共支出、财政政策"
        " | tax systems;public expenditure;fiscal policy | U",
        "计量经济学 | Econometrics"
        " | 回归分析、时间序列、面板数据"
        " | regression analysis;time series;panel data | U",
        "证券投资分析 | Securities Investment Analysis"
        " | 基本面分析、技术分析、投资组合"
        " | fundamental analysis;technical analysis;portfolio construction | UV",
        "家庭理财入门 | Personal Finance Basics"
        " | 家庭预算、储蓄与投资、防范金融诈骗"
        " | household budgeting;saving and investing;avoiding financial fraud"
        " | O | community,senior,continuing_education",
    ),
    *_courses(
        "0301",
        "民法学 | Civil Law | 民事主体、物权、合同 | legal persons;property rights;contracts | U",
        "宪法学 | Constitutional Law"
        " | 国家机构、公民基本权利、宪法实施"
        " | state institutions;fundamental rights;constitutional review | U",
        "经济法 | Economic Law"
        " | 公司法、反垄断、消费者权益保护"
        " | company law;antitrust;consumer protection | UV",
        "劳动合同法实务 | Labour Contract Law in Practice"
        " | 劳动合同、工伤认定、劳动争议"
        " | employment contracts;work injury;labour disputes | VO",
        "社区法律常识 | Everyday Law for Residents"
        " | 婚姻家庭、邻里纠纷、消费维权"
        " | marriage and family;neighbour disputes;consumer rights | O | community,senior",
    ),
    *_courses(
        "0401",
        "教育学原理 | Principles of Education"
        " | 教育目的、课程与教学、教育评价"
        " | aims of education;curriculum and instruction;educational assessment | U",
        "现代教育技术 | Modern Educational Technology"
        " | 多媒体课件、在线教学、信息化教学设计"
        " | multimedia courseware;online teaching;technology-enhanced lesson design | UV",
        "学前儿童发展 | Early Childhood Development"
        " | 身体发育、认知发展、游戏活动"
        " | physical growth;cognitive development;play activities | UV",
        "教育研究方法 | Research Methods in Education"
        " | 问卷调查、课堂观察、质性研究"
        " | survey design;classroom observation;qualitative research | U",
        "家庭教育指导 | Parenting and Family Education"
        " | 亲子沟通、习惯养成、家校合作"
        " | parent-child communication;habit formation;home-school cooperation"
        " | O | community,continuing_education",
    ),
    *_courses(
        "0402",
        "普通心理学 | General Psychology"
        " | 感觉与知觉、记忆、情绪"
        " | sensation and perception;memory;emotion | U",
        "发展心理学 | Developmental Psychology"
        " | 婴幼儿发展、青少年心理、毕生发展"
        " | infant development;adolescence;lifespan development | U",
        "大学生心理健康教育 | Mental Health for College Students"
        " | 压力管理、人际关系、情绪调节"
        " | stress management;relationships;emotion regulation | UV",
        "老年心理与健康 | Psychology of Healthy Ageing"
        " | 认知老化、孤独感、积极老龄化"
        " | cognitive ageing;loneliness;active ageing | O | senior,community",
    ),
    *_courses(
        "0501",
        "现代汉语 | Modern Chinese | 语音、词汇、语法 | phonetics;vocabulary;grammar | U",
        "中国古代文学 | Classical Chinese Literature"
        " | 诗经楚辞、唐诗宋词、明清小说"
        " | the Book of Songs;Tang and Song poetry;Ming and Qing novels | U",
        "应用写作 | Practical Writing"
        " | 公文写作、求职信、调查报告"
        " | official documents;cover letters;survey reports | UVS",
        "汉字识读与书写 | Reading and Writing Chinese Characters"
        " | 汉语拼音、常用汉字、日常书写"
        " | pinyin;common characters;everyday writing | O | literacy",
        "唐诗鉴赏 | Appreciating Tang Poetry"
        " | 李白、杜甫、诗歌意象"
        " | Li Bai;Du Fu;poetic imagery | UO | senior,community",
    ),
    *_courses(
        "0502",
        "综合英语 | Integrated English"
        " | 精读、词汇、语法"
        " | intensive reading;vocabulary;grammar | U",
        "英语听说 | English Listening and Speaking"
        " | 听力策略、口语表达、演讲"
        " | listening strategies;oral expression;public speaking | UVS",
        "商务英语 | Business English"
        " | 商务信函、谈判、会议"
        " | business correspondence;negotiation;meetings | UV",
        "英汉翻译 | English-Chinese Translation"
        " | 翻译技巧、笔译实践、译文评析"
        " | translation techniques;translation practice;translation criticism | U",
        "旅游日语 | Japanese for Tourism"
        " | 五十音图、旅游会话、酒店服务用语"
        " | kana;travel conversation;hotel service expressions | VO",
    ),
    *_courses(
        "0602",
        "中国古代史 | Ancient Chinese History"
        " | 先秦、秦汉、隋唐"
        " | the pre-Qin period;the Qin and Han dynasties;the Sui and Tang dynasties | U",
        "中国近现代史纲要 | Outline of Modern and Contemporary Chinese History"
        " | 鸦片战争、辛亥革命、改革开放"
        " | the Opium War;the 1911 Revolution;reform and opening-up | UV",
        "地方史话 | Local History Talks"
        " | 城市变迁、民俗、名人故居"
        " | urban change;folk customs;historic residences | O | community,senior",
    ),
    *_courses(
        "0701",
        "高等数学 | Advanced Mathematics | 极限、导数、积分 | limits;derivatives;integrals | UV",
        "线性代数 | Linear Algebra"
        " | 矩阵、线性方程组、特征值"
        " | matrices;systems of linear equations;eigenvalues | U",
        "概率论与数理统计 | Probability and Mathematical Statistics"
        " | 随机变量、参数估计、假设检验"
        " | random variables;parameter estimation;hypothesis testing | U",
        "数学分析 | Mathematical Analysis"
        " | 实数理论、级数、多元微积分"
        " | real numbers;series;multivariable calculus | U",
        "离散数学 | Discrete Mathematics"
        " | 集合论、图论、组合计数"
        " | set theory;graph theory;combinatorics | U",
        "应用数学 | Applied Mathematics"
        " | 函数、微积分初步、数学建模"
        " | functions;elementary calculus;mathematical modelling | VS",
    ),
    *_courses(
        "0702",
        "大学物理 | University Physics"
        " | 力学、电磁学、光学"
        " | mechanics;electromagnetism;optics | U",
        "理论力学 | Theoretical Mechanics"
        " | 拉格朗日方程、刚体运动、振动"
        " | Lagrangian mechanics;rigid-body motion;oscillations | U",
        "量子力学 | Quantum Mechanics"
        " | 薛定谔方程、角动量、微扰论"
        " | the Schrödinger equation;angular momentum;perturbation theory | U",
        "热学 | Thermal Physics"
        " | 热力学定律、分子动理论、熵"
        " | laws of thermodynamics;kinetic theory;entropy | U",
        "大学物理实验 | University Physics Laboratory"
        " | 误差分析、示波器、光学实验"
        " | error analysis;oscilloscopes;optics experiments | U",
    ),
    *_courses(
        "0703",
        "无机化学 | Inorganic Chemistry"
        " | 原子结构、化学键、配位化合物"
        " | atomic structure;chemical bonding;coordination compounds | U",
        "有机化学 | Organic Chemistry"
        " | 烃类、官能团、反应机理"
        " | hydrocarbons;functional groups;reaction mechanisms | U",
        "分析化学 | Analytical Chemistry"
        " | 滴定分析、光谱分析、色谱"
        " | titration;spectroscopy;chromatography | UV",
        "物理化学 | Physical Chemistry"
        " | 化学热力学、化学动力学、电化学"
        " | chemical thermodynamics;chemical kinetics;electrochemistry | U",
    ),
    *_courses(
        "0710",
        "普通生物学 | General Biology | 细胞、遗传、进化 | cells;genetics;evolution | U",
        "分子生物学 | Molecular Biology"
        " | DNA复制、基因表达、基因工程"
        " | DNA replication;gene expression;genetic engineering | U",
        "生物化学 | Biochemistry | 蛋白质、酶、代谢 | proteins;enzymes;metabolism | U",
        "微生物学 | Microbiology"
        " | 细菌、病毒、微生物培养"
        " | bacteria;viruses;microbial culture | UV",
        "生物信息学 | Bioinformatics"
        " | 序列比对、基因组数据、系统发育"
        " | sequence alignment;genomic data;phylogenetics | U",
    ),
    *_courses(
        "0714",
        "统计学原理 | Principles of Statistics"
        " | 描述统计、抽样、回归"
        " | descriptive statistics;sampling;regression | UV",
        "多元统计分析 | Multivariate Statistical Analysis"
        " | 主成分分析、因子分析、聚类分析"
        " | principal component analysis;factor analysis;cluster analysis | U",
        "数据分析与可视化 | Data Analysis and Visualization"
        " | 数据清洗、探索性分析、可视化图表"
        " | data cleaning;exploratory analysis;charts and dashboards | UV",
        "统计软件应用 | Statistical Computing with R"
        " | R语言、数据框、统计建模"
        " | the R language;data frames;statistical modelling | U",
    ),
    *_courses(
        "0802",
        "机械设计基础 | Fundamentals of Machine Design"
        " | 齿轮传动、轴系设计、连接件"
        " | gear drives;shaft design;fasteners | UV",
        "机械制图 | Mechanical Drawing"
        " | 投影原理、零件图、装配图"
        " | orthographic projection;part drawings;assembly drawings | UVS",
        "工程力学 | Engineering Mechanics"
        " | 静力学、材料力学、受力分析"
        " | statics;strength of materials;force analysis | UV",
        "数控加工技术 | CNC Machining Technology"
        " | 数控编程、数控车床、加工工艺"
        " | CNC programming;CNC lathes;machining processes | VS",
        "机械制造技术 | Manufacturing Technology"
        " | 切削加工、夹具设计、质量控制"
        " | metal cutting;fixture design;quality control | UV",
        "汽车构造 | Automotive Construction"
        " | 发动机、底盘、汽车电气系统"
        " | engines;chassis;vehicle electrical systems | VS",
    ),
    *_courses(
        "0808",
        "电路分析 | Circuit Analysis"
        " | 基尔霍夫定律、正弦稳态电路、三相电路"
        " | Kirchhoff's laws;AC steady-state circuits;three-phase circuits | UV",
        "电机学 | Electric Machines"
        " | 变压器、异步电机、同步电机"
        " | transformers;induction machines;synchronous machines | U",
        "电力系统分析 | Power System Analysis"
        " | 潮流计算、短路计算、稳定性"
        " | power flow;short-circuit analysis;stability | U",
        "电工技术 | Electrical Technology"
        " | 安全用电、电工仪表、电气照明"
        " | electrical safety;electrical instruments;lighting installation | VS",
        "PLC应用技术 | PLC Programming and Applications"
        " | 梯形图、传感器、自动化控制"
        " | ladder logic;sensors;automation control | VS",
    ),
    *_courses(
        "0809",
        "模拟电子技术 | Analog Electronics"
        " | 半导体器件、放大电路、集成运放"
        " | semiconductor devices;amplifiers;operational amplifiers | UV",
        "数字电子技术 | Digital Electronics"
        " | 逻辑门、组合逻辑、时序逻辑"
        " | logic gates;combinational logic;sequential logic | UV",
        "半导体物理 | Semiconductor Physics"
        " | 能带理论、载流子、PN结"
        " | band theory;charge carriers;p-n junctions | U",
        "单片机原理与应用 | Microcontroller Principles and Applications"
        " | 单片机结构、中断、接口电路"
        " | microcontroller architecture;interrupts;interface circuits | UV",
        "电子产品装配与调试 | Electronic Product Assembly and Testing"
        " | 焊接工艺、元器件识别、电路调试"
        " | soldering;component identification;circuit debugging | VS",
    ),
    *_courses(
        "0810",
        "信号与系统 | Signals and Systems"
        " | 傅里叶变换、拉普拉斯变换、系统响应"
        " | the Fourier transform;the Laplace transform;system response | U",
        "通信原理 | Principles of Communications"
        " | 调制解调、信道编码、数字通信"
        " | modulation;channel coding;digital communication | U",
        "数字信号处理 | Digital Signal Processing"
        " | 离散傅里叶变换、滤波器设计、采样"
        " | the discrete Fourier transform;filter design;sampling | U",
        "移动通信技术 | Mobile Communication Technology"
        " | 5G网络、基站、无线传播"
        " | 5G networks;base stations;radio propagation | UV",
        "物联网技术 | Internet of Things Technology"
        " | 传感网络、RFID、嵌入式系统"
        " | sensor networks;RFID;embedded systems | UV",
    ),
    *_courses(
        "0811",
        "自动控制原理 | Principles of Automatic Control"
        " | 传递函数、根轨迹、频域分析"
        " | transfer functions;root locus;frequency-domain analysis | U",
        "现代控制理论 | Modern Control Theory"
        " | 状态空间、能控性、最优控制"
        " | state space;controllability;optimal control | U",
        "机器人技术基础 | Fundamentals of Robotics"
        " | 运动学、轨迹规划、传感器"
        " | kinematics;trajectory planning;sensors | UV",
    ),
    *_courses(
        "0812",
        "计算机科学导论 | Introduction to Computer Science"
        " | 计算思维、程序设计基础、计算机系统"
        " | computational thinking;programming basics;computer systems | UV",
        "数据结构与算法 | Data Structures and Algorithms"
        " | 线性表、树与图、排序与查找"
        " | lists;trees and graphs;sorting and searching | UV",
        "计算机网络 | Computer Networks"
        " | TCP/IP协议、路由、网络安全"
        " | TCP/IP;routing;network security | UV",
        "操作系统 | Operating Systems"
        " | 进程管理、内存管理、文件系统"
        " | process management;memory management;file systems | U",
        "计算机组成原理 | Computer Organization"
        " | 指令系统、存储器层次、中央处理器"
        " | instruction sets;the memory hierarchy;CPU design | U",
        "数据库系统原理 | Database Systems"
        " | 关系模型、SQL、事务处理"
        " | the relational model;SQL;transaction processing | UV",
        "人工智能导论 | Introduction to Artificial Intelligence"
        " | 搜索算法、机器学习、知识表示"
        " | search algorithms;machine learning;knowledge representation | U",
        "数据科学导论 | Introduction to Data Science"
        " | 数据获取、统计学习、数据可视化"
        " | data acquisition;statistical learning;data visualization | U",
        "Python程序设计 | Python Programming"
        " | 基本语法、函数、数据处理"
        " | syntax;functions;data processing | UV",
        "计算机应用基础 | Computer Fundamentals and Office Software"
        " | 操作系统使用、办公软件、网络应用"
        " | using an operating system;office software;internet applications"
        " | VSO | continuing_education,community,vocational_training",
        "老年人智能手机应用 | Smartphones for Older Adults"
        " | 微信使用、移动支付、防范网络诈骗"
        " | messaging apps;mobile payment;avoiding online scams | O | senior,community",
    ),
    *_courses(
        "0814",
        "土木工程材料 | Civil Engineering Materials"
        " | 水泥、混凝土、建筑钢材"
        " | cement;concrete;structural steel | UV",
        "结构力学 | Structural Mechanics"
        " | 静定结构、力法、位移法"
        " | statically determinate structures;the force method;the displacement method | U",
        "建筑施工技术 | Building Construction Technology"
        " | 土方工程、钢筋工程、混凝土工程"
        " | earthworks;reinforcement work;concrete work | VS",
        "工程测量 | Engineering Surveying"
        " | 水准测量、全站仪、施工放样"
        " | levelling;total stations;construction layout | UV",
        "建筑CAD | AutoCAD for Building Design"
        " | 绘图命令、建筑平面图、图纸输出"
        " | drawing commands;floor plans;plotting | VS",
    ),
    *_courses(
        "0835",
        "软件工程导论 | Introduction to Software Engineering"
        " | 需求分析、软件设计、软件测试"
        " | requirements analysis;software design;software testing | UV",
        "Java程序设计 | Java Programming"
        " | 面向对象、集合框架、异常处理"
        " | object-oriented programming;collections;exception handling | UV",
        "Web前端开发 | Front-End Web Development"
        " | HTML5、CSS、JavaScript"
        " | HTML5;CSS;JavaScript | UVS",
        "软件测试技术 | Software Testing"
        " | 单元测试、自动化测试、测试用例设计"
        " | unit testing;test automation;test case design | UV",
        "移动应用开发 | Mobile App Development"
        " | Android开发、界面设计、数据存储"
        " | Android development;user interface design;data storage | UV",
        "大数据技术基础 | Big Data Fundamentals"
        " | Hadoop、Spark、分布式存储"
        " | Hadoop;Spark;distributed storage | UV",
    ),
    *_courses(
        "0901",
        "作物栽培学 | Crop Cultivation"
        " | 水稻栽培、小麦栽培、田间管理"
        " | rice cultivation;wheat cultivation;field management | UV",
        "作物育种学 | Crop Breeding"
        " | 杂交育种、分子标记、品种审定"
        " | hybrid breeding;molecular markers;variety registration | U",
        "设施农业技术 | Protected Agriculture"
        " | 温室、节水灌溉、无土栽培"
        " | greenhouses;water-saving irrigation;soilless culture | VSO | vocational_training",
    ),
    *_courses(
        "1002",
        "内科学 | Internal Medicine"
        " | 心血管疾病、呼吸系统疾病、消化系统疾病"
        " | cardiovascular disease;respiratory disease;digestive disease | U",
        "外科学 | Surgery | 无菌术、创伤、围手术期处理 | asepsis;trauma;perioperative care | U",
        "诊断学 | Clinical Diagnostics"
        " | 问诊、体格检查、实验室诊断"
        " | history taking;physical examination;laboratory diagnosis | U",
        "人体解剖学 | Human Anatomy"
        " | 运动系统、内脏学、神经系统"
        " | the musculoskeletal system;splanchnology;the nervous system | UV",
        "急救常识 | First Aid Essentials"
        " | 心肺复苏、止血包扎、急症识别"
        " | CPR;bleeding control;recognising emergencies | VO | community,senior",
    ),
    *_courses(
        "1011",
        "基础护理学 | Fundamentals of Nursing"
        " | 生命体征、无菌技术、给药护理"
        " | vital signs;aseptic technique;medication administration | UV",
        "内科护理 | Medical Nursing"
        " | 护理评估、慢性病护理、健康教育"
        " | nursing assessment;chronic disease care;health education | UV",
        "老年护理 | Gerontological Nursing"
        " | 失能照护、跌倒预防、长期照护"
        " | care for dependent older people;fall prevention;long-term care"
        " | VO | vocational_training,senior",
        "母婴护理 | Maternal and Infant Care"
        " | 产后护理、新生儿护理、母乳喂养"
        " | postpartum care;newborn care;breastfeeding | VS",
    ),
    *_courses(
        "1201",
        "管理信息系统 | Management Information Systems"
        " | 信息系统规划、ERP、业务流程"
        " | information systems planning;ERP;business processes | UV",
        "运筹学 | Operations Research"
        " | 线性规划、整数规划、排队论"
        " | linear programming;integer programming;queueing theory | U",
        "项目管理 | Project Management"
        " | 进度计划、成本控制、风险管理"
        " | scheduling;cost control;risk management | UV",
    ),
    *_courses(
        "1202",
        "管理学原理 | Principles of Management"
        " | 计划、组织、领导与控制"
        " | planning;organizing;leading and controlling | UV",
        "市场营销学 | Marketing"
        " | 市场细分、消费者行为、营销组合"
        " | market segmentation;consumer behaviour;the marketing mix | UV",
        "会计学基础 | Fundamentals of Accounting"
        " | 会计要素、复式记账、财务报表"
        " | accounting elements;double-entry bookkeeping;financial statements | UVS",
        "电子商务实务 | E-commerce in Practice"
        " | 网店运营、直播电商、客户服务"
        " | online store operations;livestream selling;customer service | VS",
        "人力资源管理 | Human Resource Management"
        " | 招聘、绩效考核、薪酬管理"
        " | recruitment;performance appraisal;compensation | UV",
        "财务管理 | Financial Management"
        " | 资本预算、营运资金、财务分析"
        " | capital budgeting;working capital;financial analysis | UV",
    ),
    *_courses(
        "1204",
        "公共管理学 | Public Administration"
        " | 公共政策、政府治理、公共服务"
        " | public policy;governance;public services | U",
        "社区管理与服务 | Community Management and Services"
        " | 社区治理、志愿服务、社会工作"
        " | community governance;volunteering;social work | VO | community,continuing_education",
    ),
    *_courses(
        "1304",
        "素描基础 | Fundamentals of Drawing"
        " | 结构素描、明暗关系、静物写生"
        " | structural drawing;light and shade;still life | UV",
        "中国书法 | Chinese Calligraphy"
        " | 楷书、行书、笔法"
        " | regular script;running script;brush technique | UO | senior,community",
        "中国画技法 | Techniques of Chinese Painting"
        " | 写意花鸟、山水画、笔墨"
        " | freehand bird-and-flower painting;landscape painting;brush and ink | UO | senior",
    ),
)


@dataclass(frozen=True)
class ResourceType:
    """A CELTS-41 resource type with its LOMv1.0 learningResourceType and file kind."""

    code: str
    zh: str
    en: str
    lom: str
    video: bool
    weight: int


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("web_course", "网络课程", "web course", "lecture", True, 30),
    ResourceType("courseware", "课件", "courseware", "slide", False, 18),
    ResourceType("web_courseware", "网络课件", "web courseware", "slide", False, 6),
    ResourceType("video", "视频素材", "video material", "lecture", True, 14),
    ResourceType("document", "文献资料", "document", "narrative text", False, 8),
    ResourceType("test_paper", "试卷", "test paper", "exam", False, 7),
    ResourceType("test_item", "试题", "test item", "exercise", False, 6),
    ResourceType("case", "案例", "case study", "problem statement", False, 6),
    ResourceType("faq", "常见问题解答", "FAQ", "narrative text", False, 3),
)

_FILE_NAMES = {
    "web_course": "course-video",
    "courseware": "slides",
    "web_courseware": "slides",
    "video": "lecture",
    "document": "reading",
    "test_paper": "final-exam",
    "test_item": "exercises",
    "case": "case-study",
    "faq": "faq",
}

_SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"),
    ("郑", "Zheng"), ("梁", "Liang"), ("宋", "Song"), ("谢", "Xie"), ("唐", "Tang"),
    ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"), ("彭", "Peng"),
)  # fmt: skip
_GIVEN = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("华", "hua"), ("红", "hong"), ("建", "jian"), ("文", "wen"), ("辉", "hui"),
    ("玲", "ling"), ("婷", "ting"), ("宇", "yu"), ("晨", "chen"), ("欣", "xin"),
    ("浩", "hao"), ("博", "bo"), ("佳", "jia"), ("思", "si"), ("晓", "xiao"),
    ("志", "zhi"), ("海", "hai"), ("春", "chun"), ("立", "li"), ("嘉", "jia"),
)  # fmt: skip
_VISITING = (
    "Emily Carter", "Daniel Hughes", "Sophie Martin", "Michael Brown",
    "Anna Schmidt", "David Wilson", "Laura Rossi", "James Taylor",
)  # fmt: skip

_CC = {
    "by": "https://creativecommons.org/licenses/by/4.0/",
    "by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
    "by-nc-sa": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
}
_LICENSES_ZH = (
    (_CC["by"], 3),
    (_CC["by-sa"], 2),
    (_CC["by-nc-sa"], 3),
    ("知识共享署名 4.0 国际许可协议（CC BY 4.0）", 2),
    ("知识共享署名-非商业性使用-相同方式共享 4.0 国际许可协议", 2),
    ("CC BY-NC-SA 4.0", 1),
    ("版权所有 © {year} {institution}", 3),
    ("版权所有，未经许可不得转载", 1),
)
_LICENSES_EN = (
    (_CC["by"], 3),
    (_CC["by-sa"], 2),
    (_CC["by-nc-sa"], 3),
    ("CC BY 4.0", 2),
    ("Creative Commons Attribution-ShareAlike 4.0 International", 2),
    ("CC BY-NC-SA 4.0", 2),
    ("All rights reserved", 3),
    ("© {year} {institution}. All rights reserved.", 1),
)

_QUALIFIERS_ZH = (
    ("", 12),
    ("（上）", 2),
    ("（下）", 2),
    ("（慕课）", 1),
    ("（混合式）", 1),
    ("semester", 2),
)
_QUALIFIERS_EN = (
    ("", 12),
    (" I", 2),
    (" II", 2),
    (" (MOOC)", 1),
    (": Principles and Practice", 1),
    (" for Engineers", 1),
    ("semester", 1),
)

# Mathematics and science departments teach these to engineering students.
_ENGINEERS_SERVICE_COURSES = frozenset({"0701", "0702", "0703", "0714"})
_STANDING_ZH = ("专业基础", "专业核心", "专业选修", "通识", "公共基础")
_STANDING_EN = ("foundation", "core", "elective", "general-education", "compulsory")
_EXTRA_ZH = (
    "注重理论与实践相结合",
    "配有丰富的案例和习题",
    "每章配有在线测验和讨论",
    "采用线上线下混合式教学",
    "结合行业真实项目组织教学",
)
_EXTRA_EN = (
    "worked examples and weekly quizzes",
    "hands-on laboratory sessions",
    "case studies drawn from industry",
    "short video lectures and online discussion",
    "a final project based on a real-world problem",
)

_HOURS = (16, 24, 32, 32, 36, 48, 48, 54, 64, 72, 96)
_SHORT_HOURS = (4, 6, 8, 10, 12, 16, 20)
_SHORT_LEVELS = frozenset({"community", "senior", "literacy"})


@dataclass(frozen=True)
class DemoRecord:
    """One course record as the demo repository stores and exposes it."""

    identifier: str  # oai:demo.coursefed.example:course-00042
    datestamp: datetime  # UTC, whole seconds
    sets: tuple[str, ...]  # source:<institution slug>, subject:08, subject:08:0812, level:<level>
    deleted: bool
    language: str  # zh or en
    title: str
    description: str
    keywords: tuple[str, ...]
    subject_code: str  # key of DISCIPLINES
    institution: str  # in the record's language
    institution_slug: str
    creators: tuple[str, ...]
    contributors: tuple[str, ...]
    level: str  # key of LEVELS
    license: str  # a licence URL, a licence name, or a rights statement
    resource_type: str  # CELTS-41 label in the record's language
    learning_resource_type: str  # LOMv1.0 educational/learningResourceType value
    learning_time: str  # ISO 8601 duration, e.g. PT32H
    url: str  # landing page
    object_url: str
    object_format: str  # application/pdf or video/mp4
    object_size: int  # bytes
    course_code: str

    @property
    def local_id(self) -> str:
        """The part after the repository identifier, e.g. ``course-00042``."""
        return self.identifier.rsplit(":", 1)[1]


@dataclass(frozen=True)
class _Anchor:
    """A choice forced at a fixed position, so the documented contract holds for any count."""

    language: str
    institution: str
    course: str  # the zh stem


# The records that other tests rely on: a Chinese 计算机科学导论 and English "data" courses.
_ANCHORS = {
    0: _Anchor("zh", "jianglan-univ", "计算机科学导论"),
    1: _Anchor("en", "beichen-tech", "数据科学导论"),
    2: _Anchor("en", "xinghe-it", "数据结构与算法"),
    3: _Anchor("zh", "xinghe-it", "计算机网络"),
    4: _Anchor("en", "donghu-finance", "数据分析与可视化"),
}


class _Picker(Generic[T]):
    """Weighted choice with precomputed cumulative weights (stable across versions)."""

    def __init__(self, items: tuple[tuple[T, int], ...]) -> None:
        self.values = [item for item, _ in items]
        self.cumulative = list(accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


def _matches_focus(course: _Course, institution: Institution) -> bool:
    if institution.kind not in course.kinds:
        return False
    return not institution.focus or any(course.discipline.startswith(p) for p in institution.focus)


_POOLS: dict[str, tuple[_Course, ...]] = {
    inst.slug: tuple(c for c in COURSES if _matches_focus(c, inst)) for inst in INSTITUTIONS
}
_BY_SLUG = {inst.slug: inst for inst in INSTITUTIONS}
_BY_STEM = {course.zh: course for course in COURSES}
_PICK_INSTITUTION = _Picker(tuple((inst, inst.weight) for inst in INSTITUTIONS))
_PICK_LEVEL = {kind: _Picker(weights) for kind, weights in _LEVEL_WEIGHTS.items()}
_PICK_TYPE = _Picker(tuple((t, t.weight) for t in RESOURCE_TYPES))
_PICK_LICENSE = {"zh": _Picker(_LICENSES_ZH), "en": _Picker(_LICENSES_EN)}
_PICK_QUALIFIER = {"zh": _Picker(_QUALIFIERS_ZH), "en": _Picker(_QUALIFIERS_EN)}
_PICK_PEOPLE = _Picker(((1, 5), (2, 3), (3, 2)))
_PICK_HELPERS = _Picker(((0, 6), (1, 3), (2, 1)))
_SPAN_SECONDS = int((LATEST - EARLIEST).total_seconds())


def _person(rng: random.Random, language: str) -> str:
    surname_zh, surname_en = rng.choice(_SURNAMES)
    given = [rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2)))]
    if language == "zh":
        return surname_zh + "".join(zh for zh, _ in given)
    if rng.random() < 0.12:
        return rng.choice(_VISITING)
    # Chinese authors publishing in English usually write the given name first.
    return "".join(en for _, en in given).capitalize() + " " + surname_en


def _title(rng: random.Random, course: _Course, language: str, year: int, month: int) -> str:
    stem = course.zh if language == "zh" else course.en
    qualifier = _PICK_QUALIFIER[language](rng)
    if qualifier == "semester":
        spring = month <= 6
        if language == "zh":
            return f"{stem}（{year}{'春' if spring else '秋'}）"
        return f"{stem} ({'Spring' if spring else 'Autumn'} {year})"
    if qualifier == " for Engineers" and course.discipline not in _ENGINEERS_SERVICE_COURSES:
        return stem
    return stem + qualifier


def _description(
    rng: random.Random,
    course: _Course,
    *,
    language: str,
    title: str,
    institution: str,
    level: str,
    hours: int,
    teacher: str,
) -> str:
    zh_label, en_label = DISCIPLINES[course.discipline]
    audience_zh, audience_en = _AUDIENCE[level]
    first = rng.randrange(3)
    extra = rng.randrange(len(_EXTRA_ZH))
    last = rng.randrange(4)  # 3 means two sentences only
    standing = rng.randrange(len(_STANDING_ZH))
    if language == "zh":
        t1, t2, t3 = course.topics_zh
        opening = (
            f"《{title}》是{institution}面向{audience_zh}开设的{zh_label}类"
            f"{_STANDING_ZH[standing]}课程。",
            f"本课程由{institution}{teacher}老师主讲，面向{audience_zh}，属于{zh_label}学科。",
            f"{title}是{zh_label}学科的{_STANDING_ZH[standing]}课程，由{institution}建设。",
        )[first]
        middle = f"课程系统讲授{t1}、{t2}和{t3}等内容，{_EXTRA_ZH[extra]}。"
        closing = (
            f"课程总学时为{hours}学时，学习者完成后能够运用所学知识分析和解决实际问题。",
            "课程资源包括教学视频、电子课件和配套习题。",
            f"建议学习者每周投入{max(2, hours // 16)}小时左右完成学习任务。",
            "",
        )[last]
    else:
        t1, t2, t3 = course.topics_en
        article = "an" if _STANDING_EN[standing][0] in "aeiou" else "a"
        opening = (
            f"{title} is {article} {_STANDING_EN[standing]} course in {en_label} offered by "
            f"{institution} for {audience_en}.",
            f"Taught by {teacher} at {institution}, this course introduces {audience_en} "
            f"to {en_label}.",
            f"This {en_label} course from {institution} is designed for {audience_en}.",
        )[first]
        middle = f"Topics include {t1}, {t2}, and {t3}, with {_EXTRA_EN[extra]}."
        closing = (
            f"The course takes about {hours} hours of study and ends with an online exam.",
            "Materials include video lectures, slides and practice exercises.",
            "Learners should be comfortable with the prerequisites listed on the course page.",
            "",
        )[last]
    if language == "zh":
        return opening + middle + closing  # Chinese sentences are not separated by spaces
    return " ".join(part for part in (opening, middle, closing) if part)


def _learning_time(rng: random.Random, level: str, kind: ResourceType) -> tuple[str, int]:
    if kind.code == "test_paper":
        minutes = rng.choice((90, 120, 150))
        hours, rest = divmod(minutes, 60)
        return (f"PT{hours}H{rest}M" if rest else f"PT{hours}H"), hours
    hours = rng.choice(_SHORT_HOURS if level in _SHORT_LEVELS else _HOURS)
    return f"PT{hours}H", hours


def _make_record(rng: random.Random, index: int) -> DemoRecord:
    anchor = _ANCHORS.get(index)
    if anchor is None:
        language = "zh" if rng.random() < 0.5 else "en"
        institution = _PICK_INSTITUTION(rng)
        course = rng.choice(_POOLS[institution.slug])
    else:
        language = anchor.language
        institution = _BY_SLUG[anchor.institution]
        course = _BY_STEM[anchor.course]
    if institution.kind == "O" and course.open_levels:
        level = rng.choice(course.open_levels)
    elif index in _ANCHORS:
        level = _LEVEL_WEIGHTS[institution.kind][0][0]
    else:
        level = _PICK_LEVEL[institution.kind](rng)

    datestamp = EARLIEST + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
    number = f"{index + 1:05d}"
    inst_name = institution.name(language)
    if anchor is None:
        title = _title(rng, course, language, datestamp.year, datestamp.month)
    else:
        title = course.zh if language == "zh" else course.en
    creators = tuple(_person(rng, language) for _ in range(_PICK_PEOPLE(rng)))
    contributors = tuple(_person(rng, language) for _ in range(_PICK_HELPERS(rng)))
    kind = _PICK_TYPE(rng)
    learning_time, hours = _learning_time(rng, level, kind)
    description = _description(
        rng,
        course,
        language=language,
        title=title,
        institution=inst_name,
        level=level,
        hours=hours,
        teacher=creators[0],
    )
    topics = course.topics_zh if language == "zh" else course.topics_en
    keywords = (*topics, DISCIPLINES[course.discipline][0 if language == "zh" else 1])
    license_text = _PICK_LICENSE[language](rng).format(year=datestamp.year, institution=inst_name)
    if kind.video:
        object_format, extension = "video/mp4", "mp4"
        object_size = rng.randrange(40_000_000, 1_800_000_000)
    else:
        object_format, extension = "application/pdf", "pdf"
        object_size = rng.randrange(150_000, 25_000_000)
    deleted = anchor is None and rng.random() < 0.01
    category = course.discipline[:2]
    return DemoRecord(
        identifier=f"oai:{REPOSITORY_IDENTIFIER}:course-{number}",
        datestamp=datestamp,
        sets=(
            f"source:{institution.slug}",
            f"subject:{category}",
            f"subject:{category}:{course.discipline}",
            f"level:{level}",
        ),
        deleted=deleted,
        language=language,
        title=title,
        description=description,
        keywords=keywords,
        subject_code=course.discipline,
        institution=inst_name,
        institution_slug=institution.slug,
        creators=creators,
        contributors=contributors,
        level=level,
        license=license_text,
        resource_type=kind.zh if language == "zh" else kind.en,
        learning_resource_type=kind.lom,
        learning_time=learning_time,
        url=f"{HOST}/courses/{number}",
        object_url=f"{HOST}/files/{number}/{_FILE_NAMES[kind.code]}.{extension}",
        object_format=object_format,
        object_size=object_size,
        course_code=f"{institution.code}{course.discipline}{rng.randrange(100, 1000)}",
    )


def generate_corpus(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[DemoRecord]:
    """``count`` records, numbered from 1, identical for the same ``count`` and ``seed``.

    A shorter corpus is a prefix of a longer one with the same seed.  The first records
    are pinned (see ``_ANCHORS``), so even a tiny corpus holds the Chinese course
    计算机科学导论 and English courses about data.
    """
    return list(iter_corpus(count, seed))


def iter_corpus(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[DemoRecord]:
    """The records of ``generate_corpus(count, seed)`` one at a time, in the same order,
    made as they are asked for: a million records never sit in memory together."""
    if count < 0:
        raise ValueError("count must not be negative")
    return _records(count, random.Random(seed))


def _records(count: int, rng: random.Random) -> Iterator[DemoRecord]:
    for index in range(count):
        yield _make_record(rng, index)


def institution_by_slug(slug: str) -> Institution:
    """The institution of a record's ``institution_slug``."""
    return _BY_SLUG[slug]
